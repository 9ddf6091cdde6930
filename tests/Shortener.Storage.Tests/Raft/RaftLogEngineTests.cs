using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Disk;
using Shortener.Storage.Files;
using Shortener.Storage.Raft;
using static Shortener.Storage.Tests.Raft.RaftWalTests;

namespace Shortener.Storage.Tests.Raft;

/// <summary>The node's log engine with several groups (shards) in it: shared batches, per-shard compaction, recovery.</summary>
public sealed class RaftLogEngineTests
{
    private const string Dir = "/node/raft-log";

    [Fact]
    public void Shards_share_one_write_and_one_fsync_per_batch()
    {
        var fs = new SimFileSystem();
        using (var engine = RaftLogEngine.Open(Dir, fileSystem: fs))
        {
            var groups = new[] { engine.Group(0), engine.Group(5), engine.Group(9) };
            foreach (var group in groups)
            {
                group.Append(new HardState(1, 1, 0), [E(1, 1, $"g{group.Id}"), E(1, 2)]);
            }

            var syncs = fs.Syncs;
            groups[1].Sync();
            groups[0].Sync();
            Assert.Equal(1, engine.Batches);
            Assert.Equal(syncs + 1, fs.Syncs);
        }

        using var again = RaftLogEngine.Open(Dir, fileSystem: fs);
        Assert.Equal([0u, 5, 9], again.Groups);
        foreach (var id in new uint[] { 0, 5, 9 })
        {
            var recovered = again.Group(id).Recovered;
            Assert.Equal([1UL, 2], recovered.Entries.Select(e => e.Index));
            Assert.Equal($"g{id}", Encoding.UTF8.GetString(recovered.Entries[0].Data));
            Assert.Equal(new HardState(1, 1, 0), recovered.HardState);
        }
    }

    /// <summary>
    /// Power fails after a batch carrying three shards' records was written but before its fsync
    /// returned: each shard recovers to the last synced batch or to whole records of the lost one,
    /// never a hard state without the entries before it, whatever part of the write reached the disk.
    /// </summary>
    [Fact]
    public void A_crash_between_the_write_and_the_fsync_of_a_batch_of_several_shards_recovers_each_shard()
    {
        for (var seed = 1; seed <= 60; seed++)
        {
            var sim = new SimFileSystem();
            var fs = new FailingFileSystem(sim);
            using (var engine = RaftLogEngine.Open(Dir, fileSystem: fs))
            {
                var groups = Enumerable.Range(1, 3).Select(i => engine.Group((uint)i)).ToArray();
                for (ulong i = 1; i <= 5; i++)
                {
                    foreach (var group in groups)
                    {
                        group.Append(new HardState(1, 1, i - 1), [E(1, i)]);
                    }

                    engine.Sync();
                }

                foreach (var group in groups)
                {
                    group.Append(new HardState(1, 1, 5), [E(1, 6, "six"), E(1, 7, "seven")]);
                }

                fs.FailSyncsFrom(1);
                Assert.ThrowsAny<IOException>(() => engine.Sync());

                // After a failed fsync the log takes nothing more, from any shard.
                var refused = Assert.Throws<StorageException>(() => groups[2].Append(HardState.Empty, [E(1, 8)]));
                Assert.Contains("restart the node", refused.Message);
            }

            sim.Crash(new SeededRandom((ulong)seed), tornWrites: true);
            using var again = RaftLogEngine.Open(Dir, fileSystem: sim);
            foreach (var id in new uint[] { 1, 2, 3 })
            {
                var recovered = again.Group(id).Recovered;
                var count = recovered.Entries.Count;
                Assert.True(count is >= 5 and <= 7, $"seed {seed}, shard {id}: {count} entries");
                Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), recovered.Entries.Select(e => e.Index));
                Assert.True(recovered.HardState.Commit == 4 || count == 7, $"seed {seed}, shard {id}: a hard state landed without its entries");
            }
        }
    }

    [Fact]
    public void A_bit_flip_in_the_middle_of_the_log_refuses_to_open_and_names_the_shard_and_the_byte()
    {
        var fs = new SimFileSystem();
        using (var engine = RaftLogEngine.Open(Dir, fileSystem: fs))
        {
            var seven = engine.Group(7);
            var nine = engine.Group(9);
            for (ulong i = 1; i <= 10; i++)
            {
                seven.Append(new HardState(1, 1, i - 1), [E(1, i, "seven-" + i)]);
                nine.Append(new HardState(1, 1, i - 1), [E(1, i, "nine-" + i)]);
                engine.Sync();
            }
        }

        var segment = fs.Files(Dir, RaftLogEngine.Extension).Single();
        var bytes = fs.ReadAll(segment);
        var at = bytes.AsSpan().IndexOf("nine-4"u8);
        using (var file = fs.Create(segment))
        {
            bytes[at + 2] ^= 0x08;
            file.Write(bytes);
            file.Sync();
        }

        var error = Assert.Throws<WalCorruptionException>(() => RaftLogEngine.Open(Dir, fileSystem: fs).Dispose());
        Assert.Contains("shard group 9", error.Message);
        Assert.Contains("damaged at byte ", error.Message);
        Assert.Contains("synced log entries are unreadable", error.Message);
    }

    [Fact]
    public void A_shard_removed_from_the_node_is_forgotten_and_keeps_no_segment()
    {
        var fs = new SimFileSystem();
        using (var engine = RaftLogEngine.Open(Dir, segmentBytes: 400, fileSystem: fs))
        {
            var stays = engine.Group(1);
            var leaves = engine.Group(2);
            for (ulong i = 1; i <= 30; i++)
            {
                stays.Append(new HardState(1, 1, i - 1), [E(1, i, new string('s', 20))]);
                leaves.Append(new HardState(1, 1, i - 1), [E(1, i, new string('l', 20))]);
                engine.Sync();
            }

            stays.AppendSnapshot(28, 1, installed: false);
            engine.Sync();
            stays.ReleaseTo(28);
            Assert.True(engine.SegmentCount > 10, "the leaving shard's entries keep the old segments");

            // What is left: the segments of the staying shard's entries 29 and 30, and the current one.
            engine.RemoveGroup(2);
            Assert.True(engine.SegmentCount <= 3, $"{engine.SegmentCount} segments after the removal");
            Assert.Throws<InvalidOperationException>(() => leaves.Append(HardState.Empty, [E(1, 31)]));
        }

        using var again = RaftLogEngine.Open(Dir, segmentBytes: 400, fileSystem: fs);
        Assert.Equal([1u], again.Groups);
        Assert.Equal([29UL, 30], again.Group(1).Recovered.Entries.Select(e => e.Index));

        // Back on the node later, the shard starts from nothing (a snapshot from its leader).
        var back = again.Group(2);
        Assert.Empty(back.Recovered.Entries);
        Assert.True(back.Recovered.HardState.IsEmpty);
    }

    [Fact]
    public void An_idle_shard_is_copied_forward_so_a_busy_one_can_free_segments()
    {
        var fs = new SimFileSystem();
        using (var engine = RaftLogEngine.Open(Dir, segmentBytes: 600, fileSystem: fs))
        {
            var idle = engine.Group(1);
            var idleLog = new List<RaftEntry> { E(1, 1, "idle-1"), E(1, 2, "idle-2"), E(1, 3, "idle-3") };
            idle.LiveEntries = () => idleLog;
            idle.Append(new HardState(1, 1, 3), idleLog);
            engine.Sync();

            var busy = engine.Group(2);
            for (ulong i = 1; i <= 400; i++)
            {
                busy.Append(new HardState(1, 1, i - 1), [E(1, i, new string('b', 30))]);
                engine.Sync();
                if (i % 20 == 0)
                {
                    busy.AppendSnapshot(i - 5, 1, installed: false);
                    engine.Sync();
                    busy.ReleaseTo(i - 5);
                }
            }

            Assert.True(engine.Rewrites > 0);
            Assert.True(engine.SegmentCount <= 8, $"{engine.SegmentCount} segments: the idle shard keeps the old ones");
            Assert.DoesNotContain(fs.Files(Dir, RaftLogEngine.Extension), f => f.EndsWith($"{1:x16}{RaftLogEngine.Extension}", StringComparison.Ordinal));

            // The idle shard's leader changes: a new term overwrites its last entry after the copy.
            idleLog[2] = E(2, 3, "idle-3-new");
            idle.Append(new HardState(2, 2, 2), [idleLog[2]]);
            engine.Sync();
        }

        using var again = RaftLogEngine.Open(Dir, segmentBytes: 600, fileSystem: fs);
        var recovered = again.Group(1).Recovered;
        Assert.Equal(["idle-1", "idle-2", "idle-3-new"], recovered.Entries.Select(e => Encoding.UTF8.GetString(e.Data)));
        Assert.Equal(new HardState(2, 2, 2), recovered.HardState);
        var busyLog = again.Group(2).Recovered;
        Assert.Equal(395UL, busyLog.SnapshotIndex);
        Assert.Equal(Enumerable.Range(396, 5).Select(i => (ulong)i), busyLog.Entries.Select(e => e.Index));
    }

    /// <summary>
    /// Random appends, suffix overwrites, snapshots taken and installed, removals and reopenings
    /// over several shards with tiny segments (so rotation, rewrites and deletions happen all the
    /// time), checked against a model of each shard's log after every reopening.
    /// </summary>
    [Fact]
    public void Random_operations_over_many_shards_replay_as_the_model_says()
    {
        long rewrites = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var random = new SeededRandom((ulong)seed);
            var fs = new SimFileSystem();
            var models = new Dictionary<uint, ModelLog>();
            var engine = RaftLogEngine.Open(Dir, segmentBytes: 700, fileSystem: fs);
            var groups = new Dictionary<uint, RaftLogGroup>();
            RaftLogGroup Claim(uint id)
            {
                if (!groups.TryGetValue(id, out var group))
                {
                    var model = models.TryGetValue(id, out var m) ? m : models[id] = new ModelLog();
                    group = engine.Group(id);
                    group.LiveEntries = () => model.Entries;
                    groups[id] = group;
                }

                return group;
            }

            try
            {
                for (var step = 0; step < 600; step++)
                {
                    var id = (uint)random.Next(5);
                    var group = Claim(id);
                    var model = models[id];
                    switch (random.Next(20))
                    {
                        case < 14:
                        {
                            // Append, sometimes overwriting a suffix as a new leader does.
                            var from = model.Last + 1;
                            if (model.Entries.Count > 0 && random.Chance(0.2))
                            {
                                from = model.Entries[random.Next(model.Entries.Count)].Index;
                            }

                            model.Term += random.Chance(0.1) ? 1UL : 0;
                            var entries = Enumerable.Range(0, 1 + random.Next(4))
                                .Select(k => E(model.Term, from + (ulong)k, $"{id}-{from + (ulong)k}-{model.Term}-{step}"))
                                .ToList();
                            model.Append(entries);
                            model.HardState = new HardState(model.Term, 1, model.SnapshotIndex);
                            group.Append(model.HardState, entries);
                            break;
                        }

                        case < 16 when model.Entries.Count > 2:
                        {
                            var at = model.Entries[random.Next(model.Entries.Count - 1)];
                            model.Take(at.Index, at.Term);
                            group.AppendSnapshot(at.Index, at.Term, installed: false);
                            engine.Sync();
                            group.ReleaseTo(at.Index);
                            break;
                        }

                        case 16:
                        {
                            var index = model.Last + (ulong)random.Next(1, 10);
                            model.Install(index, model.Term);
                            group.AppendSnapshot(index, model.Term, installed: true);
                            break;
                        }

                        case 17 when random.Chance(0.3):
                            engine.RemoveGroup(id);
                            groups.Remove(id);
                            models.Remove(id);
                            continue;
                        case 18:
                            engine.Sync();
                            engine.Dispose();
                            engine = RaftLogEngine.Open(Dir, segmentBytes: 700, fileSystem: fs);
                            groups.Clear();
                            foreach (var unwritten in models.Where(m => !m.Value.Written).Select(m => m.Key).ToList())
                            {
                                models.Remove(unwritten);
                            }

                            Assert.Equal(models.Keys.Order(), engine.Groups);
                            foreach (var (known, expected) in models)
                            {
                                expected.Check(Claim(known).Recovered, $"seed {seed} step {step} shard {known}");
                            }

                            continue;
                    }

                    engine.Sync();
                }

                // Once every shard's snapshot covers its whole log, no old segment is needed.
                foreach (var (id, group) in groups)
                {
                    if (models[id].Entries.Count > 0)
                    {
                        var last = models[id].Entries[^1];
                        group.AppendSnapshot(last.Index, last.Term, installed: false);
                        engine.Sync();
                        group.ReleaseTo(last.Index);
                    }
                }

                Assert.True(engine.SegmentCount == 1, $"seed {seed}: {engine.SegmentCount} segments");
                rewrites += engine.Rewrites;
            }
            finally
            {
                engine.Dispose();
            }
        }

        Assert.True(rewrites > 40, $"{rewrites} rewrites in all: the copy-forward path went untested");
    }

    /// <summary>What a shard's log should replay as.</summary>
    private sealed class ModelLog
    {
        public List<RaftEntry> Entries { get; } = [];

        public ulong SnapshotIndex { get; private set; }

        public ulong SnapshotTerm { get; private set; }

        public ulong Term { get; set; } = 1;

        public HardState HardState { get; set; }

        /// <summary>Whether anything of this shard reached the log (a shard only claimed leaves no trace).</summary>
        public bool Written { get; private set; }

        public ulong Last => Entries.Count > 0 ? Entries[^1].Index : SnapshotIndex;

        public void Append(List<RaftEntry> entries)
        {
            Entries.RemoveAll(e => e.Index >= entries[0].Index);
            Entries.AddRange(entries);
            Written = true;
        }

        public void Take(ulong index, ulong term)
        {
            (SnapshotIndex, SnapshotTerm) = (index, term);
            Entries.RemoveAll(e => e.Index <= index);
        }

        public void Install(ulong index, ulong term)
        {
            (SnapshotIndex, SnapshotTerm) = (index, term);
            Entries.Clear();
            Written = true;
        }

        public void Check(RecoveredRaftState recovered, string where)
        {
            Assert.True(SnapshotIndex == recovered.SnapshotIndex, $"{where}: snapshot {recovered.SnapshotIndex}, expected {SnapshotIndex}");
            Assert.Equal(HardState, recovered.HardState);
            var expected = Entries.Select(e => (e.Index, e.Term, Encoding.UTF8.GetString(e.Data))).ToList();
            var actual = recovered.Entries.Select(e => (e.Index, e.Term, Encoding.UTF8.GetString(e.Data))).ToList();
            Assert.True(expected.SequenceEqual(actual), $"{where}: replayed {string.Join(",", actual.Select(a => a.Index))}, expected {string.Join(",", expected.Select(a => a.Index))}");
        }
    }
}
