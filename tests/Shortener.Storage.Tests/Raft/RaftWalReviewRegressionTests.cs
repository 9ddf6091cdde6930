using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Disk;
using Shortener.Storage.Raft;
using static Shortener.Storage.Tests.Raft.RaftWalTests;

namespace Shortener.Storage.Tests.Raft;

/// <summary>Defects found in review of the first WAL version (a WAL per shard then, one group of the node's log now); each test failed before its fix.</summary>
public sealed class RaftWalReviewRegressionTests : IDisposable
{
    // Header of a new segment: SegmentHeader(8) + the group's Snapshot(17) + HardState(24), 17 bytes of framing each.
    private const int SegmentHeaderBytes = 17 + 8 + 17 + 17 + 17 + 24;

    private readonly TempDirectory _dir = new();

    private string WalDir => _dir.File("wal");

    public void Dispose() => _dir.Dispose();

    private string[] Segments() => Directory.GetFiles(WalDir, "*.log").Order().ToArray();

    /// <summary>Crash after Rotate's CreateSegment was fsynced but before the batch that triggered it was written.</summary>
    private void CrashRightAfterRotation()
    {
        var last = Segments()[^1];
        using var f = new FileStream(last, FileMode.Open, FileAccess.Write);
        f.SetLength(SegmentHeaderBytes);
    }

    [Fact]
    public void A_hard_state_never_lands_without_its_entries_across_a_rotation()
    {
        var (wal, _) = SingleGroupLog.Open(WalDir, 250);
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [E(1, 1), E(1, 2), E(1, 3)]);
            wal.Sync();
            wal.Append(new HardState(1, 1, 6), [E(1, 4, new string('x', 60)), E(1, 5, new string('x', 60)), E(1, 6, new string('x', 60))]);
            wal.Sync();
        }

        Assert.Equal(2, Segments().Length);
        CrashRightAfterRotation();
        var (again, state) = SingleGroupLog.Open(WalDir, 250);
        using (again)
        {
            var last = state.Entries.Count > 0 ? state.Entries[^1].Index : state.SnapshotIndex;
            Assert.True(state.HardState.Commit <= last, $"recovered commit {state.HardState.Commit} but the log ends at {last}");
        }
    }

    [Fact]
    public void An_installed_snapshot_pending_at_a_rotation_is_not_restated_as_taken()
    {
        var sim = new SimFileSystem();
        var fs = new FailingFileSystem(sim);
        var (wal, _) = SingleGroupLog.Open("/n/log", 540, fs);
        using (wal)
        {
            // An old log 1..12 of term 1 (uncommitted past 2).
            wal.Append(new HardState(1, 1, 2), Enumerable.Range(1, 12).Select(i => E(1, (ulong)i)).ToList());
            wal.Sync();

            // The leader of term 3 installs its snapshot at (10, 3): the follower's 10 is term 1,
            // so the whole log goes. The batch opens a new segment, whose header is synced (the
            // old segment's fsync, then the new one's); the power fails before the batch's own fsync.
            wal.AppendSnapshot(10, 3, installed: true);
            wal.Append(new HardState(3, 0, 10), []);
            fs.FailSyncsFrom(3);
            Assert.Throws<IOException>(wal.Sync);
        }

        sim.Crash(new SeededRandom(1), tornWrites: false);
        Assert.Equal(2, sim.Files("/n/log", RaftLogEngine.Extension).Count);
        var (again, state) = SingleGroupLog.Open("/n/log", 540, sim);
        using (again)
        {
            // The crash lost the batch with the install: the log is as it was before it, whole.
            // What must never appear is snapshot (10, term 3) followed by the old (11, 12) of term 1.
            Assert.Equal(0UL, state.SnapshotIndex);
            Assert.Equal(Enumerable.Range(1, 12).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
            Assert.Equal(2UL, state.HardState.Commit);
        }
    }

    [Fact]
    public void A_suffix_rewrite_below_a_segments_first_entry_replays_after_a_release()
    {
        var (wal, _) = SingleGroupLog.Open(WalDir, 550);
        using (wal)
        {
            wal.Append(new HardState(1, 1, 3), [.. Enumerable.Range(1, 5).Select(i => E(1, (ulong)i, "0123456789"))]);
            wal.Sync();
            wal.Append(HardState.Empty, [E(1, 6, new string('x', 60)), E(1, 7, new string('x', 60)), E(1, 8, new string('x', 60))]);
            wal.Sync();
            Assert.Equal(2, Segments().Length);

            // A new leader of term 2 replaces the uncommitted suffix from 4.
            wal.Append(new HardState(2, 2, 3), [E(2, 4), E(2, 5)]);
            wal.Sync();

            // The application snapshots at 5; the first segment is released.
            wal.AppendSnapshot(5, 2, installed: false);
            wal.Sync();
            Assert.Equal(1, wal.ReleaseTo(5));
        }

        Assert.Single(Segments());
        var (again, state) = SingleGroupLog.Open(WalDir, 550);
        using (again)
        {
            Assert.Equal(5UL, state.SnapshotIndex);
            Assert.Empty(state.Entries);
        }
    }

    [Fact]
    public void A_torn_last_batch_whose_first_sector_was_never_written_is_a_tail()
    {
        var (wal, _) = SingleGroupLog.Open(WalDir);
        using (wal)
        {
            wal.Append(new HardState(1, 1, 0), [E(1, 1)]);
            wal.Sync();
            wal.Append(new HardState(1, 1, 1), [E(1, 2, "aaaaaaaaaaaaaaaa"), E(1, 3, "bbbbbbbbbbbbbbbb"), E(1, 4, "cccccccccccccccc")]);
            wal.Sync();
        }

        // The power fails during the second batch's write: its first bytes never reach the disk
        // (zeros), the rest of the batch does.
        var path = Segments()[^1];
        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("aaaaaaaaaaaaaaaa")) - 17 - 17;
        Array.Clear(bytes, at, 17);
        File.WriteAllBytes(path, bytes);
        var (again, state) = SingleGroupLog.Open(WalDir);
        using (again)
        {
            Assert.Equal([1UL], state.Entries.Select(e => e.Index));
        }
    }
}

public sealed class DurableRaftStorageReviewRegressionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_crash_between_an_installed_snapshot_file_and_its_wal_marker_drops_the_stale_log()
    {
        var dir = _dir.File("n2");
        var conf = ConfState.Of(1, 2, 3);
        using (var storage = DurableRaftStorage.Open(dir))
        {
            storage.Persist(new Ready { Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, conf), []), HardState = new HardState(1, 0, 1), MustSync = true });
            // Entries 2..12 from the leader of term 1, never committed past 1.
            storage.Persist(new Ready { HardState = new HardState(1, 1, 1), Entries = Enumerable.Range(2, 11).Select(i => E(1, (ulong)i)).ToList(), MustSync = true });
        }

        // The leader of term 3 sends its snapshot at (10, 3); the follower's 10 is of term 1, so the
        // snapshot replaces the whole log. Persist(ready) saves the file, then crashes before the WAL write.
        new SnapshotFileStore(Path.Combine(dir, "snap")).Save(new RaftSnapshot(new SnapshotMetadata(10, 3, conf), [42]));

        using var reopened = DurableRaftStorage.Open(dir);
        var m = reopened.Memory;
        var node = new RaftNode(new RaftConfig { Id = 2, Random = new SeededRandom(1), Applied = 10 }, m);

        // Another stale follower with the same old log (last entry (12, term 1)) asks for a vote.
        node.Step(new RaftMessage { Type = MessageType.Vote, From = 3, To = 2, Term = 4, Index = 12, LogTerm = 1 });
        var answer = node.GetReady().Messages.Single(x => x.Type == MessageType.VoteResponse);
        Assert.True(m.LastIndex == 10 && answer.Reject,
            $"log after snapshot (10, term 3): {string.Join(", ", Enumerable.Range(11, (int)(m.LastIndex - 10)).Select(i => $"({i}, term {m.Term((ulong)i)})"))}; vote for a candidate without (10, term 3): {(answer.Reject ? "refused" : "GRANTED")}");
    }

    /// <summary>Found by the simulator on its simulated disk, when it ran the real WAL.</summary>
    [Fact]
    public void A_received_snapshot_whose_wal_marker_a_crash_lost_is_recorded_so_the_log_after_it_replays()
    {
        var dir = _dir.File("n5");
        var conf = ConfState.Of(1, 2, 3);
        using (var storage = DurableRaftStorage.Open(dir))
        {
            storage.Persist(new Ready { Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, conf), []), HardState = new HardState(1, 0, 1), MustSync = true });
            storage.Persist(new Ready { HardState = new HardState(1, 1, 1), Entries = Enumerable.Range(2, 28).Select(i => E(1, (ulong)i)).ToList(), MustSync = true });
        }

        // A leader's snapshot at (41, term 6) is written, then the node loses power before the WAL records it.
        new SnapshotFileStore(Path.Combine(dir, "snap")).Save(new RaftSnapshot(new SnapshotMetadata(41, 6, conf), [42]));
        using (var recovered = DurableRaftStorage.Open(dir))
        {
            Assert.Equal(41UL, recovered.Memory.Snapshot().Metadata.Index);
            Assert.Equal(41UL, recovered.Memory.LastIndex);

            // It goes on from the snapshot.
            recovered.Persist(new Ready { Entries = [E(6, 42), E(6, 43)], HardState = new HardState(6, 0, 43), MustSync = true });
        }

        // And comes back again: before the fix the WAL held 29 then 42 and refused to open.
        using var again = DurableRaftStorage.Open(dir);
        Assert.Equal(42UL, again.Memory.FirstIndex);
        Assert.Equal(43UL, again.Memory.LastIndex);
    }

    /// <summary>Found by the simulator: two unsynced batches, the first torn and the second whole, looked like lost synced data.</summary>
    [Fact]
    public void A_ready_that_moves_only_the_commit_index_waits_for_the_next_synced_batch()
    {
        var fs = new Simulation.Disk.SimFileSystem();
        using var storage = DurableRaftStorage.Open("/n", fileSystem: fs);
        storage.Persist(new Ready { Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(1)), []), HardState = new HardState(1, 0, 1), MustSync = true });
        storage.Persist(new Ready { HardState = new HardState(1, 1, 1), Entries = [E(1, 2)], MustSync = true });
        var segment = fs.Files("/n/log", RaftLogEngine.Extension).Single();
        var length = fs.ReadAll(segment).Length;

        storage.Write(new Ready { HardState = new HardState(1, 1, 2) });
        Assert.Equal(length, fs.ReadAll(segment).Length);

        // The next synced batch carries it: after a power loss the commit index is there.
        storage.Persist(new Ready { Entries = [E(1, 3)], MustSync = true });
        fs.Crash(new SeededRandom(1), tornWrites: false);
        using var reopened = DurableRaftStorage.Open("/n", fileSystem: fs);
        Assert.Equal(new HardState(1, 1, 2), reopened.Recovered.HardState);
        Assert.Equal(3UL, reopened.Memory.LastIndex);
    }
}
