using System.Text;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Core.Tests.Raft;

/// <summary>
/// Replicas wired together in memory for scenario tests. Each is the production
/// <see cref="ReplicaDriver{TResult}"/> over a memory disk and a state machine that records what it
/// applied; messages go through a queue that tests can cut, and every delivered message is written
/// to <see cref="Trace"/> so a failing scenario reads like the story of what was said. Tests reach
/// the engine of each replica (<c>net[id]</c>) for local requests between rounds.
/// </summary>
internal sealed class RaftNetwork
{
    private readonly Dictionary<ulong, Replica> _replicas = [];
    private readonly Queue<RaftMessage> _inFlight = new();
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private ulong _proposals;

    public RaftNetwork(int voters, Func<ulong, RaftConfig, RaftConfig>? configure = null, ulong seed = 1, Func<ReplicaOptions, ReplicaOptions>? replica = null)
        : this(Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray(), [], configure, seed, replica)
    {
    }

    public RaftNetwork(ulong[] voters, ulong[] learners, Func<ulong, RaftConfig, RaftConfig>? configure = null, ulong seed = 1, Func<ReplicaOptions, ReplicaOptions>? replica = null)
    {
        Configure = configure ?? ((_, c) => c);
        ConfigureReplica = replica ?? (o => o);
        Seed = seed;
        var confState = new ConfState(voters, learners, [], [], false);
        foreach (var id in voters.Concat(learners))
        {
            Add(id, confState);
        }
    }

    public Func<ulong, RaftConfig, RaftConfig> Configure { get; }

    public Func<ReplicaOptions, ReplicaOptions> ConfigureReplica { get; }

    /// <summary>Whether a replica that stopped fails the test at once (off for tests of the stop itself).</summary>
    public bool ThrowWhenStopped { get; set; } = true;

    /// <summary>Messages sent and not yet delivered.</summary>
    public IReadOnlyCollection<RaftMessage> InFlight => _inFlight;

    public ulong Seed { get; }

    public List<string> Trace { get; } = [];

    /// <summary>Every message type delivered so far, to count (say) appends in a backtracking test.</summary>
    public List<RaftMessage> Delivered { get; } = [];

    /// <summary>When set, messages it returns false for are dropped (after being traced).</summary>
    public Func<RaftMessage, bool>? Filter { get; set; }

    /// <summary>When set, every message is replaced by what it returns before delivery (say, an append cut short).</summary>
    public Func<RaftMessage, RaftMessage>? Rewrite { get; set; }

    public RaftNode this[ulong id] => _replicas[id].Driver.Raft;

    public ReplicaDriver<string> Driver(ulong id) => _replicas[id].Driver;

    public MemoryRaftStorage Storage(ulong id) => _replicas[id].Disk.Storage;

    public RecordingStateMachine StateMachine(ulong id) => _replicas[id].StateMachine;

    /// <summary>The commands a replica applied (a received snapshot shows as one entry holding its data).</summary>
    public IReadOnlyList<RaftEntry> Applied(ulong id) => _replicas[id].StateMachine.Applied;

    /// <summary>Reads answered on a replica: their read point and the label the test gave them.</summary>
    public List<(ulong Index, string Label)> Reads(ulong id) => _replicas[id].Reads;

    /// <summary>Reads that failed on a replica: why, and the label.</summary>
    public List<(string Why, string Label)> FailedReads(ulong id) => _replicas[id].FailedReads;

    /// <summary>The membership after each configuration change a replica applied.</summary>
    public List<(ulong Index, ConfState Config)> Memberships(ulong id) => _replicas[id].Memberships;

    public IEnumerable<ulong> Ids => _replicas.Keys.Order();

    /// <summary>Adds a replica that starts from <paramref name="confState"/> (or empty, to join later).</summary>
    public void Add(ulong id, ConfState confState)
    {
        var replica = new Replica(new MemoryRaftDisk(), new RecordingStateMachine());
        if (confState.Voters.Count > 0)
        {
            // Bootstrap: every member starts from the same snapshot holding the initial configuration.
            ReplicaDriver<string>.Bootstrap(replica.Disk, confState);
        }

        replica.Driver = NewDriver(id, replica);
        replica.StateMachine.Applied.Clear();
        _replicas[id] = replica;
    }

    /// <summary>Simulates a crash and restart: the replica keeps its log and its applied state.</summary>
    public void Restart(ulong id)
    {
        var replica = _replicas[id];
        replica.Driver = NewDriver(id, replica);
    }

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void CutOneWay(ulong from, ulong to) => _cut.Add((from, to));

    public void Isolate(ulong id)
    {
        foreach (var other in _replicas.Keys.Where(o => o != id))
        {
            Cut(id, other);
        }
    }

    public void Heal() => _cut.Clear();

    public void Tick(ulong id, int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            _replicas[id].Driver.Tick();
        }
    }

    public void TickAll(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var id in Ids)
            {
                _replicas[id].Driver.Tick();
            }

            Stabilize();
        }
    }

    public void Campaign(ulong id)
    {
        _replicas[id].Driver.Request(node =>
        {
            node.Campaign();
            return true;
        });
        Stabilize();
    }

    /// <summary>Proposes <paramref name="data"/> on the engine of <paramref name="id"/> and lets the network settle.</summary>
    public ProposalResult Propose(ulong id, string data)
    {
        var result = ProposeQuietly(id, data);
        Stabilize();
        return result;
    }

    /// <summary>Proposes without letting anything move (the entry stays in the engine until the next round).</summary>
    public ProposalResult ProposeQuietly(ulong id, string data) =>
        _replicas[id].Driver.Request(node => node.Propose(ProposalFrame.Encode(new ProposalId(0, ++_proposals), Encoding.UTF8.GetBytes(data))));

    /// <summary>Proposes through the driver of <paramref name="id"/> (ids, retries, deadline); its outcome lands in the returned list.</summary>
    public List<ProposalOutcome<string>> Submit(ulong id, string data)
    {
        var outcomes = new List<ProposalOutcome<string>>();
        _replicas[id].Driver.Propose(Encoding.UTF8.GetBytes(data), outcomes.Add);
        return outcomes;
    }

    /// <summary>Asks replica <paramref name="id"/> for a linearizable read point; it shows in <see cref="Reads"/> once answered.</summary>
    public void Read(ulong id, string label)
    {
        var replica = _replicas[id];
        replica.Driver.Read(outcome =>
        {
            if (outcome.Ok)
            {
                replica.Reads.Add((outcome.Index, label));
            }
            else
            {
                replica.FailedReads.Add((outcome.Failure!, label));
            }
        });
    }

    /// <summary>Runs every replica's rounds and delivers every message until nothing moves.</summary>
    public void Stabilize(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var moved = false;
            foreach (var id in Ids)
            {
                moved |= RunRounds(id);
            }

            while (_inFlight.TryDequeue(out var sent))
            {
                moved = true;
                var m = Rewrite is null ? sent : Rewrite(sent);
                var dropped = _cut.Contains((m.From, m.To)) || (Filter is not null && !Filter(m)) || !_replicas.ContainsKey(m.To);
                Trace.Add((dropped ? "DROP " : string.Empty) + m);
                if (!dropped)
                {
                    Delivered.Add(m);
                    _replicas[m.To].Driver.Step(m);
                }
            }

            if (!moved)
            {
                return;
            }
        }

        throw new InvalidOperationException("the network did not settle");
    }

    /// <summary>Holds back messages instead of delivering them: returns what was sent.</summary>
    public List<RaftMessage> Collect(ulong id)
    {
        RunRounds(id);
        var collected = _inFlight.Where(m => m.From == id).ToList();
        var rest = _inFlight.Where(m => m.From != id).ToList();
        _inFlight.Clear();
        foreach (var m in rest)
        {
            _inFlight.Enqueue(m);
        }

        return collected;
    }

    public void Deliver(RaftMessage m)
    {
        Trace.Add(m.ToString());
        _replicas[m.To].Driver.Step(m);
    }

    public RaftNode? Leader() => _replicas.Values.Select(r => r.Driver.Raft).Where(n => n.Role == RaftRole.Leader).OrderByDescending(n => n.Term).FirstOrDefault();

    public string TraceText => string.Join('\n', Trace);

    private ReplicaDriver<string> NewDriver(ulong id, Replica replica) => new(
        ConfigureReplica(new ReplicaOptions
        {
            Raft = Configure(id, new RaftConfig { Id = id, ElectionTick = 10, HeartbeatTick = 1, Random = new SeededRandom((Seed * 1000) + id) }),
            Proposer = id,
            SnapshotEntries = 0,
        }),
        replica.Disk,
        replica.StateMachine,
        new QueueTransport(_inFlight),
        replica);

    private bool RunRounds(ulong id)
    {
        var driver = _replicas[id].Driver;
        var moved = false;
        while (driver.HasWork)
        {
            moved = true;
            driver.RunRound();
            if (driver.TakeSnapshotWork() is { } work)
            {
                driver.SnapshotCaptured(work());
            }
        }

        if (driver.Failure is { } failure && ThrowWhenStopped)
        {
            throw new InvalidOperationException($"replica {id} stopped: {failure.Message}", failure);
        }

        return moved;
    }

    private sealed class QueueTransport(Queue<RaftMessage> queue) : IRaftTransport
    {
        public void Send(RaftMessage message) => queue.Enqueue(message);
    }

    private sealed class Replica(MemoryRaftDisk disk, RecordingStateMachine stateMachine) : IReplicaObserver
    {
        public MemoryRaftDisk Disk { get; } = disk;

        public RecordingStateMachine StateMachine { get; } = stateMachine;

        public ReplicaDriver<string> Driver { get; set; } = null!;

        public List<(ulong Index, string Label)> Reads { get; } = [];

        public List<(string Why, string Label)> FailedReads { get; } = [];

        public List<(ulong Index, ConfState Config)> Memberships { get; } = [];

        public void MembershipApplied(ulong index, ConfState configuration) => Memberships.Add((index, configuration));
    }
}
