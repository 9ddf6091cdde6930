using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
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

    /// <summary>Replica drivers on real disks (DurableRaftStorage), pumped round by round.</summary>
    private sealed class DiskCluster(string[] dirs)
    {
        private readonly Dictionary<ulong, (DurableRaftStorage Storage, ReplicaDriver<string> Driver)> _up = [];
        private readonly Dictionary<ulong, RecordingStateMachine> _machines = [];
        private readonly Queue<RaftMessage> _inFlight = new();
        private ulong _proposals;

        public RaftNode Node(ulong id) => _up[id].Driver.Raft;

        public string LastApplied(ulong id) => Encoding.UTF8.GetString(_machines[id].Applied.Last(e => e.Data.Length > 0).Data);

        public void Bootstrap()
        {
            var conf = ConfState.Of(Enumerable.Range(1, dirs.Length).Select(i => (ulong)i).ToArray());
            for (var i = 0; i < dirs.Length; i++)
            {
                using (var storage = DurableRaftStorage.Open(dirs[i]))
                {
                    Assert.True(ReplicaDriver<string>.Bootstrap(storage, conf));
                }

                Start((ulong)(i + 1));
            }
        }

        /// <summary>Opens the replica's disk and starts a driver on it (the state machine, not under test here, keeps what it applied).</summary>
        public void Start(ulong id)
        {
            var storage = DurableRaftStorage.Open(dirs[id - 1]);
            var machine = _machines.TryGetValue(id, out var kept) ? kept : _machines[id] = new RecordingStateMachine();
            var options = new ReplicaOptions { Raft = new RaftConfig { Id = id, Random = new SeededRandom(id) }, Proposer = id, SnapshotEntries = 0, SnapshotKeepEntries = 0 };
            _up[id] = (storage, new ReplicaDriver<string>(options, storage, machine, new QueueTransport(_inFlight)));
        }

        public void Down(ulong id)
        {
            _up[id].Storage.Dispose();
            _up.Remove(id);
        }

        public void Restart(ulong id)
        {
            if (_up.ContainsKey(id))
            {
                Down(id);
            }

            Start(id);
            Stabilize();
        }

        public void Campaign(ulong id)
        {
            _up[id].Driver.Request(n =>
            {
                n.Campaign();
                return 0;
            });
            Stabilize();
        }

        public void Propose(ulong id, string data)
        {
            _up[id].Driver.Request(n => n.Propose(ProposalFrame.Encode(new ProposalId(0, ++_proposals), Encoding.UTF8.GetBytes(data))));
            Stabilize();
        }

        /// <summary>Snapshots the replica's state machine and compacts its log, as the driver does when it decides to.</summary>
        public void Compact(ulong id) => _up[id].Driver.SnapshotCaptured(_machines[id].PrepareSnapshot()());

        public void TickAll(int ticks)
        {
            for (var t = 0; t < ticks; t++)
            {
                foreach (var (_, driver) in _up.Values)
                {
                    driver.Tick();
                }

                Stabilize();
            }
        }

        private void Stabilize()
        {
            for (var round = 0; round < 1000; round++)
            {
                var moved = false;
                foreach (var (id, (_, driver)) in _up.OrderBy(n => n.Key))
                {
                    while (driver.HasWork)
                    {
                        moved = true;
                        driver.RunRound();
                    }

                    Assert.True(driver.Failure is null, $"replica {id} stopped: {driver.Failure}");
                }

                while (_inFlight.TryDequeue(out var m))
                {
                    moved = true;
                    if (_up.TryGetValue(m.To, out var target))
                    {
                        target.Driver.Step(m);
                    }
                }

                if (!moved)
                {
                    return;
                }
            }
        }

        private sealed class QueueTransport(Queue<RaftMessage> queue) : IRaftTransport
        {
            public void Send(RaftMessage message) => queue.Enqueue(message);
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
        var (wal, _) = SingleGroupLog.Open(Path.Combine(dir, "log"));
        using (wal)
        {
            // The log picks up at 20, but the snapshot ends at 5: 6..19 are gone.
            wal.AppendSnapshot(5, 1, installed: false);
            wal.Append(new HardState(1, 1, 5), [RaftWalTests.E(1, 20), RaftWalTests.E(1, 21)]);
            wal.Sync();
        }

        var error = Assert.Throws<StorageException>(() => DurableRaftStorage.Open(dir));
        Assert.Contains("resumes at index 20 but its snapshot ends at 5", error.Message);
    }
}
