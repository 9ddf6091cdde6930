using System.Text;
using Shortener.Core.Raft;
using Shortener.Storage.Raft;

namespace Shortener.Storage.Tests.Raft;

public sealed class RaftWalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string WalDir => _dir.File("wal");

    public void Dispose() => _dir.Dispose();

    internal static RaftEntry E(ulong term, ulong index, string data = "") => new(term, index, EntryType.Normal, Encoding.UTF8.GetBytes(data.Length > 0 ? data : $"e{index}"));

    [Fact]
    public void Entries_and_hard_state_survive_reopening()
    {
        var (wal, state) = Open();
        using (wal)
        {
            Assert.Empty(state.Entries);
            wal.Append(new HardState(1, 1, 0), [E(1, 1), E(1, 2)]);
            wal.Sync();
            wal.Append(new HardState(1, 1, 2), [E(1, 3)]);
            wal.Sync();
        }

        var (again, recovered) = Open();
        using (again)
        {
            Assert.Equal(new HardState(1, 1, 2), recovered.HardState);
            Assert.Equal([1UL, 2, 3], recovered.Entries.Select(e => e.Index));
            Assert.Equal("e3", Encoding.UTF8.GetString(recovered.Entries[^1].Data));
            Assert.Equal(0, recovered.TruncatedTailBytes);
        }
    }

    [Fact]
    public void A_later_write_at_a_lower_index_replaces_the_suffix()
    {
        var (wal, _) = Open();
        using (wal)
        {
            wal.Append(new HardState(1, 1, 1), [E(1, 1), E(1, 2), E(1, 3), E(1, 4)]);
            wal.Sync();
            wal.Append(new HardState(2, 2, 1), [E(2, 3, "new3"), E(2, 4, "new4"), E(2, 5)]);
            wal.Sync();
        }

        var (again, state) = Open();
        using (again)
        {
            Assert.Equal([(1UL, 1UL), (1, 2), (2, 3), (2, 4), (2, 5)], state.Entries.Select(e => (e.Term, e.Index)));
            Assert.Equal("new3", Encoding.UTF8.GetString(state.Entries[2].Data));
        }
    }

    [Fact]
    public void Segments_rotate_and_are_released_below_a_snapshot()
    {
        var (wal, _) = Open(segmentBytes: 200);
        using (wal)
        {
            for (ulong i = 1; i <= 40; i++)
            {
                wal.Append(new HardState(1, 1, i - 1), [E(1, i, new string('x', 20))]);
                wal.Sync();
            }

            Assert.True(wal.SegmentCount > 5, $"{wal.SegmentCount} segments");
            wal.AppendSnapshot(30, 1, installed: false);
            wal.Sync();
            var before = wal.SegmentCount;
            Assert.True(wal.ReleaseTo(30) > 0);
            Assert.True(wal.SegmentCount < before);
        }

        var (again, state) = Open(segmentBytes: 200);
        using (again)
        {
            Assert.Equal(30UL, state.SnapshotIndex);
            Assert.Equal(Enumerable.Range(31, 10).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
            Assert.Equal(39UL, state.HardState.Commit);
        }
    }

    [Fact]
    public void An_installed_snapshot_replaces_the_whole_log()
    {
        var (wal, _) = Open();
        using (wal)
        {
            wal.Append(new HardState(1, 1, 2), [E(1, 1), E(1, 2), E(1, 3)]);
            wal.AppendSnapshot(100, 4, installed: true);
            wal.Append(new HardState(4, 0, 100), [E(4, 101)]);
            wal.Sync();
        }

        var (again, state) = Open();
        using (again)
        {
            Assert.Equal((100UL, 4UL), (state.SnapshotIndex, state.SnapshotTerm));
            Assert.Equal([101UL], state.Entries.Select(e => e.Index));
        }
    }

    /// <summary>
    /// A crash can cut the last write at any byte. At every such point, recovery must succeed and
    /// return the synced batches plus whole records of the interrupted one: never a partial
    /// record, never an error.
    /// </summary>
    [Fact]
    public void A_crash_at_every_byte_of_the_last_batch_recovers_the_complete_batches()
    {
        long synced;
        var (wal, _) = Open();
        using (wal)
        {
            for (ulong i = 1; i <= 5; i++)
            {
                wal.Append(new HardState(1, 1, i - 1), [E(1, i)]);
                wal.Sync();
            }

            synced = new FileInfo(SegmentPath()).Length;
            wal.Append(new HardState(1, 1, 5), [E(1, 6, "six"), E(1, 7, "seven"), E(1, 8, "eight")]);
            wal.Sync();
        }

        var full = File.ReadAllBytes(SegmentPath());
        for (var cut = (int)synced; cut <= full.Length; cut++)
        {
            File.WriteAllBytes(SegmentPath(), full[..cut]);
            var (reopened, state) = Open();
            using (reopened)
            {
                // The synced batches always survive; of the interrupted one, whole records only.
                var count = state.Entries.Count;
                Assert.True(count is >= 5 and <= 8, $"cut at {cut}: {count} entries");
                Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
                Assert.True(state.HardState.Commit is 4 or 5);
                Assert.True(state.HardState.Commit == 4 || count == 8, "the hard state is written after the batch's entries");
                if (cut == full.Length)
                {
                    Assert.Equal(8, count);
                }

                // What recovery cut is gone from the file too.
                Assert.Equal(cut, new FileInfo(SegmentPath()).Length + state.TruncatedTailBytes);
            }
        }
    }

    [Fact]
    public void A_bit_flip_in_the_last_record_is_cut_off_like_a_torn_write()
    {
        var (wal, _) = Open();
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [E(1, 1), E(1, 2)]);
            wal.Sync();
            wal.Append(new HardState(1, 1, 2), [E(1, 3, "last")]);
            wal.Sync();
        }

        // Flip a bit inside the last batch's entry; the hard state record after it stays intact.
        var bytes = File.ReadAllBytes(SegmentPath());
        bytes[bytes.AsSpan().IndexOf("last"u8) + 1] ^= 0x10;
        File.WriteAllBytes(SegmentPath(), bytes);
        var (again, state) = Open();
        using (again)
        {
            Assert.Equal([1UL, 2], state.Entries.Select(e => e.Index));
            Assert.True(state.TruncatedTailBytes > 0);
        }

        // The cut is made on disk: the next open finds a clean file.
        var (third, clean) = Open();
        using (third)
        {
            Assert.Equal(0, clean.TruncatedTailBytes);
            Assert.Equal(2, clean.Entries.Count);
        }
    }

    [Fact]
    public void Damage_followed_by_later_batches_stops_with_a_clear_error()
    {
        var (wal, _) = Open();
        using (wal)
        {
            for (ulong i = 1; i <= 10; i++)
            {
                wal.Append(new HardState(1, 1, i - 1), [E(1, i, "payload-" + i)]);
                wal.Sync();
            }
        }

        var bytes = File.ReadAllBytes(SegmentPath());
        var at = bytes.Length / 3;
        bytes[at] ^= 0xFF;
        File.WriteAllBytes(SegmentPath(), bytes);
        var error = Assert.Throws<WalCorruptionException>(() => Open().Wal.Dispose());
        Assert.Contains("synced log entries are unreadable", error.Message);
        Assert.Contains("replica or a backup", error.Message);
    }

    [Fact]
    public void Damage_in_an_earlier_segment_stops_with_a_clear_error()
    {
        var (wal, _) = Open(segmentBytes: 150);
        using (wal)
        {
            for (ulong i = 1; i <= 20; i++)
            {
                wal.Append(new HardState(1, 1, i - 1), [E(1, i, new string('y', 30))]);
                wal.Sync();
            }
        }

        var first = Directory.GetFiles(WalDir).Order().First();
        var bytes = File.ReadAllBytes(first);
        bytes[^5] ^= 0x01;
        File.WriteAllBytes(first, bytes);
        var error = Assert.Throws<WalCorruptionException>(() => Open(segmentBytes: 150).Wal.Dispose());
        Assert.Contains("later segments follow", error.Message);
    }

    [Fact]
    public void A_torn_last_batch_whose_later_records_survived_is_still_a_tail()
    {
        // Sectors of one unsynced batch may reach the disk out of order: damage inside the last
        // batch, with that batch's later records intact, is still an interrupted write.
        var (wal, _) = Open();
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [E(1, 1)]);
            wal.Sync();
            wal.Append(new HardState(1, 1, 1), [E(1, 2, "aaaaaaaaaaaaaaaa"), E(1, 3, "bbbbbbbbbbbbbbbb"), E(1, 4, "cccccccccccccccc")]);
            wal.Sync();
        }

        var bytes = File.ReadAllBytes(SegmentPath());
        var marker = Encoding.UTF8.GetBytes("bbbbbbbbbbbbbbbb");
        var at = bytes.AsSpan().IndexOf(marker);
        bytes[at + 3] ^= 0x40;
        File.WriteAllBytes(SegmentPath(), bytes);
        var (again, state) = Open();
        using (again)
        {
            Assert.Equal([1UL, 2], state.Entries.Select(e => e.Index));
        }
    }

    [Fact]
    public void A_stray_file_in_the_wal_directory_is_refused()
    {
        Directory.CreateDirectory(WalDir);
        File.WriteAllText(Path.Combine(WalDir, "notes.log"), "hello");
        Assert.Throws<WalCorruptionException>(() => Open().Wal.Dispose());
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    private (SingleGroupLog Wal, RecoveredRaftState State) Open(long segmentBytes = RaftLogEngine.DefaultSegmentBytes) => SingleGroupLog.Open(WalDir, segmentBytes);

    private string SegmentPath() => Directory.GetFiles(WalDir).Single();
}

public sealed class RaftWalRefusalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string WalDir => _dir.File("wal");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_log_with_entries_missing_in_the_middle_is_refused()
    {
        var (wal, _) = SingleGroupLog.Open(WalDir);
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [RaftWalTests.E(1, 1), RaftWalTests.E(1, 2)]);
            wal.Append(HardState.Empty, [RaftWalTests.E(1, 5)]);
            wal.Sync();
        }

        var error = Assert.Throws<WalCorruptionException>(() => SingleGroupLog.Open(WalDir).Wal.Dispose());
        Assert.Contains("jumps from index 2 to 5", error.Message);
    }

    [Fact]
    public void A_segment_that_does_not_start_with_its_own_header_is_refused()
    {
        var (wal, _) = SingleGroupLog.Open(WalDir);
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [RaftWalTests.E(1, 1)]);
            wal.Sync();
        }

        // Renamed to another sequence number, the header no longer matches the file.
        var path = Directory.GetFiles(WalDir).Single();
        File.Move(path, Path.Combine(WalDir, $"{7:x16}{RaftLogEngine.Extension}"));
        var error = Assert.Throws<WalCorruptionException>(() => SingleGroupLog.Open(WalDir).Wal.Dispose());
        Assert.Contains("does not start with its own header", error.Message);
    }
}
