using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Storage.Raft;

namespace Shortener.Storage.Tests.Raft;

public sealed class DurableRaftStorageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Snapshot_files_are_written_atomically_and_a_damaged_one_is_passed_over()
    {
        var store = new SnapshotFileStore(_dir.File("snap"));
        var older = new RaftSnapshot(new SnapshotMetadata(10, 2, new ConfState([1, 2, 3], [4], [], [], false)), [1, 2, 3]);
        var newer = new RaftSnapshot(new SnapshotMetadata(20, 3, ConfState.Of(1, 2, 3)), Encoding.UTF8.GetBytes("state at 20"));
        store.Save(older);
        var path = store.Save(newer);
        Assert.Empty(Directory.GetFiles(_dir.File("snap"), "*.tmp"));

        var loaded = store.LoadNewest(out var skipped)!;
        Assert.Empty(skipped);
        Assert.Equal(20UL, loaded.Metadata.Index);
        Assert.Equal(newer.Data, loaded.Data);

        var bytes = File.ReadAllBytes(path);
        bytes[20] ^= 1;
        File.WriteAllBytes(path, bytes);
        loaded = store.LoadNewest(out skipped)!;
        Assert.Equal(10UL, loaded.Metadata.Index);
        Assert.Equal([4UL], loaded.Metadata.ConfState.Learners);
        Assert.Single(skipped);

        File.WriteAllText(Path.Combine(_dir.File("snap"), "x.snap.tmp"), "leftover");
        _ = new SnapshotFileStore(_dir.File("snap"));
        Assert.Empty(Directory.GetFiles(_dir.File("snap"), "*.tmp"));
    }

    [Fact]
    public void A_replica_on_disk_restarts_with_its_log_and_catches_up()
    {
        var dirs = new[] { _dir.File("n1"), _dir.File("n2"), _dir.File("n3") };
        var cluster = new DiskCluster(dirs);
        cluster.Bootstrap();
        cluster.Campaign(1);
        for (var i = 0; i < 20; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        var last = cluster.Node(1).LastIndex;
        cluster.Restart(2);
        Assert.Equal(last, cluster.Node(2).LastIndex);
        Assert.Equal(cluster.Node(1).Term, cluster.Node(2).Term);

        // Node 3 goes down; the leader snapshots and compacts; node 3 comes back and needs the snapshot.
        cluster.Down(3);
        for (var i = 0; i < 10; i++)
        {
            cluster.Propose(1, $"w{i}");
        }

        cluster.Compact(1);
        cluster.Propose(1, "after-compaction");
        cluster.Restart(3);
        cluster.TickAll(5);
        Assert.Equal(cluster.Node(1).LastIndex, cluster.Node(3).LastIndex);
        Assert.Equal("after-compaction", cluster.LastApplied(3));

        // And all of it holds across yet another restart, from the files alone.
        cluster.Restart(3);
        Assert.Equal(cluster.Node(1).LastIndex, cluster.Node(3).LastIndex);
    }

    [Fact]
    public void A_wal_that_needs_a_missing_snapshot_refuses_to_open()
    {
        var cluster = new DiskCluster([_dir.File("n1")]);
        cluster.Bootstrap();
        cluster.Campaign(1);
        for (var i = 0; i < 5; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        cluster.Compact(1);
        cluster.Down(1);
        foreach (var snap in Directory.GetFiles(Path.Combine(_dir.File("n1"), "snap")))
        {
            File.Delete(snap);
        }

        var error = Assert.Throws<StorageException>(() => DurableRaftStorage.Open(_dir.File("n1")));
        Assert.Contains("no snapshot file holds it", error.Message);
    }

    /// <summary>RaftNodes on real disks, driven by the Ready contract with DurableRaftStorage.</summary>
    private sealed class DiskCluster(string[] dirs)
    {
        private readonly Dictionary<ulong, (DurableRaftStorage Storage, RaftNode Node, List<RaftEntry> Applied)> _nodes = [];
        private readonly Queue<RaftMessage> _inFlight = new();

        public RaftNode Node(ulong id) => _nodes[id].Node;

        public string LastApplied(ulong id) => Encoding.UTF8.GetString(_nodes[id].Applied[^1].Data);

        public void Bootstrap()
        {
            var conf = ConfState.Of(Enumerable.Range(1, dirs.Length).Select(i => (ulong)i).ToArray());
            for (var i = 0; i < dirs.Length; i++)
            {
                using (var storage = DurableRaftStorage.Open(dirs[i]))
                {
                    storage.Persist(new Ready { Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, conf), []), HardState = new HardState(1, 0, 1), MustSync = true });
                }

                Start((ulong)(i + 1));
            }
        }

        public void Start(ulong id)
        {
            var storage = DurableRaftStorage.Open(dirs[id - 1]);
            var applied = _nodes.TryGetValue(id, out var old) ? old.Applied : [];
            var node = new RaftNode(new RaftConfig { Id = id, Random = new SeededRandom(id), Applied = applied.Count == 0 ? 0 : applied[^1].Index }, storage.Memory);
            _nodes[id] = (storage, node, applied);
        }

        public void Down(ulong id)
        {
            _nodes[id].Storage.Dispose();
            _nodes.Remove(id, out var gone);
            _downApplied[id] = gone.Applied;
        }

        public void Restart(ulong id)
        {
            if (_nodes.TryGetValue(id, out var running))
            {
                running.Storage.Dispose();
            }
            else
            {
                _nodes[id] = (null!, null!, _downApplied[id]);
            }

            Start(id);
            Stabilize();
        }

        public void Campaign(ulong id)
        {
            Node(id).Campaign();
            Stabilize();
        }

        public void Propose(ulong id, string data)
        {
            Node(id).Propose(Encoding.UTF8.GetBytes(data));
            Stabilize();
        }

        public void Compact(ulong id)
        {
            var (storage, node, _) = _nodes[id];
            storage.Compact(node.Applied, node.ConfState, Encoding.UTF8.GetBytes($"state@{node.Applied}"));
        }

        public void TickAll(int ticks)
        {
            for (var t = 0; t < ticks; t++)
            {
                foreach (var n in _nodes.Values)
                {
                    n.Node.Tick();
                }

                Stabilize();
            }
        }

        private readonly Dictionary<ulong, List<RaftEntry>> _downApplied = [];

        private void Stabilize()
        {
            for (var round = 0; round < 1000; round++)
            {
                var moved = false;
                foreach (var (id, (storage, node, applied)) in _nodes.OrderBy(n => n.Key))
                {
                    while (node.HasReady)
                    {
                        moved = true;
                        var ready = node.GetReady();
                        storage.Persist(ready);
                        foreach (var m in ready.Messages)
                        {
                            _inFlight.Enqueue(m);
                        }

                        if (ready.Snapshot is { } snapshot)
                        {
                            applied.Clear();
                            applied.Add(new RaftEntry(snapshot.Metadata.Term, snapshot.Metadata.Index, EntryType.Normal, snapshot.Data));
                        }

                        applied.AddRange(ready.CommittedEntries);
                        node.Advance(ready);
                    }
                }

                while (_inFlight.TryDequeue(out var m))
                {
                    moved = true;
                    if (_nodes.TryGetValue(m.To, out var target))
                    {
                        target.Node.Step(m);
                    }
                }

                if (!moved)
                {
                    return;
                }
            }
        }
    }
}

public sealed class DurableRaftStorageRefusalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_wal_that_resumes_past_its_snapshot_is_refused()
    {
        var dir = _dir.File("n1");
        new SnapshotFileStore(Path.Combine(dir, "snap")).Save(new RaftSnapshot(new SnapshotMetadata(5, 1, ConfState.Of(1)), []));
        var (wal, _) = RaftWal.Open(Path.Combine(dir, "wal"));
        using (wal)
        {
            // The log picks up at 20, but the snapshot ends at 5: 6..19 are gone.
            wal.AppendSnapshot(5, 1, installed: false);
            wal.Append(new HardState(1, 1, 5), [RaftWalTests.E(1, 20), RaftWalTests.E(1, 21)]);
            wal.Sync();
        }

        var error = Assert.Throws<StorageException>(() => DurableRaftStorage.Open(dir));
        Assert.Contains("resumes at index 20 but the snapshot ends at 5", error.Message);
    }
}
