using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Bench.Raft;

/// <summary>
/// Replica drivers in one process over a perfect network: a queue of messages delivered in order.
/// <see cref="Pump"/> runs every replica's rounds and delivers until nothing moves. The disks are
/// the caller's (memory for the engine's own cost, the WAL for the disk's).
/// </summary>
public sealed class BenchCluster
{
    private readonly Dictionary<ulong, ReplicaDriver<int>> _drivers = [];
    private readonly IReadOnlyDictionary<ulong, IRaftDisk> _disks;
    private readonly Queue<RaftMessage> _network = new();

    public BenchCluster(IReadOnlyDictionary<ulong, IRaftDisk> disks)
    {
        _disks = disks;
        var conf = ConfState.Of([.. disks.Keys.Order()]);
        foreach (var (id, disk) in disks)
        {
            ReplicaDriver<int>.Bootstrap(disk, conf);
            var options = new ReplicaOptions
            {
                Raft = new RaftConfig { Id = id, Random = new SeededRandom(id), MaxInflightMessages = 1024 },
                Proposer = id,
                SnapshotEntries = 0,
                MaxPendingProposals = 100_000,
            };
            _drivers[id] = new ReplicaDriver<int>(options, disk, new CountingStateMachine(), new QueueTransport(_network));
        }
    }

    public ReplicaDriver<int> this[ulong id] => _drivers[id];

    /// <summary>Counts the leader's rounds that wrote entries, and the entries they wrote (with an fsync each).</summary>
    public (long Rounds, long Entries) LeaderWrites { get; private set; }

    public void Campaign(ulong id)
    {
        _drivers[id].Request(n =>
        {
            n.Campaign();
            return 0;
        });
        Pump();
    }

    public void Pump()
    {
        bool moved;
        do
        {
            moved = false;
            foreach (var (id, driver) in _drivers)
            {
                while (driver.HasWork)
                {
                    moved = true;
                    // A proposal enters the engine's log at once; a round makes it durable.
                    var durable = _disks[id].Log.LastIndex;
                    driver.RunRound();
                    if (driver.Raft.Role == RaftRole.Leader && _disks[id].Log.LastIndex > durable)
                    {
                        LeaderWrites = (LeaderWrites.Rounds + 1, LeaderWrites.Entries + (long)(_disks[id].Log.LastIndex - durable));
                    }
                }
            }

            while (_network.TryDequeue(out var m))
            {
                moved = true;
                _drivers[m.To].Step(m);
            }
        }
        while (moved);
    }

    public void ResetCounts() => LeaderWrites = (0, 0);

    private sealed class QueueTransport(Queue<RaftMessage> queue) : IRaftTransport
    {
        public void Send(RaftMessage message) => queue.Enqueue(message);
    }

    /// <summary>A state machine that only counts: the bench measures replication, not an application.</summary>
    private sealed class CountingStateMachine : IReplicatedStateMachine<int>
    {
        private int _count;

        public ulong AppliedIndex { get; private set; }

        public IReadOnlyList<int> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
        {
            var results = new int[commands.Count];
            for (var i = 0; i < commands.Count; i++)
            {
                results[i] = ++_count;
            }

            AppliedIndex = appliedThrough;
            return results;
        }

        public Func<CapturedSnapshot> PrepareSnapshot() => () => new CapturedSnapshot(AppliedIndex, BitConverter.GetBytes(_count));

        public void Restore(RaftSnapshot snapshot)
        {
            _count = snapshot.Data.Length == 4 ? BitConverter.ToInt32(snapshot.Data) : 0;
            AppliedIndex = snapshot.Metadata.Index;
        }
    }
}
