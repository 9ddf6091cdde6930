using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

/// <summary>
/// Replicas wired together in memory for scenario tests: each follows the Ready contract exactly
/// (persist to its MemoryRaftStorage, send, apply, advance), messages go through a queue that
/// tests can cut, and every delivered message is written to <see cref="Trace"/> so a failing
/// scenario reads like the story of what was said.
/// </summary>
internal sealed class RaftNetwork
{
    private readonly Dictionary<ulong, Replica> _replicas = [];
    private readonly Queue<RaftMessage> _inFlight = new();
    private readonly HashSet<(ulong From, ulong To)> _cut = [];

    public RaftNetwork(int voters, Func<ulong, RaftConfig, RaftConfig>? configure = null, ulong seed = 1)
        : this(Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray(), [], configure, seed)
    {
    }

    public RaftNetwork(ulong[] voters, ulong[] learners, Func<ulong, RaftConfig, RaftConfig>? configure = null, ulong seed = 1)
    {
        Configure = configure ?? ((_, c) => c);
        Seed = seed;
        var confState = new ConfState(voters, learners, [], [], false);
        foreach (var id in voters.Concat(learners))
        {
            Add(id, confState);
        }
    }

    public Func<ulong, RaftConfig, RaftConfig> Configure { get; }

    public ulong Seed { get; }

    public List<string> Trace { get; } = [];

    /// <summary>Every message type delivered so far, to count (say) appends in a backtracking test.</summary>
    public List<RaftMessage> Delivered { get; } = [];

    /// <summary>When set, messages it returns false for are dropped (after being traced).</summary>
    public Func<RaftMessage, bool>? Filter { get; set; }

    /// <summary>When set, every message is replaced by what it returns before delivery (say, an append cut short).</summary>
    public Func<RaftMessage, RaftMessage>? Rewrite { get; set; }

    public RaftNode this[ulong id] => _replicas[id].Node;

    public MemoryRaftStorage Storage(ulong id) => _replicas[id].Storage;

    public IReadOnlyList<RaftEntry> Applied(ulong id) => _replicas[id].Applied;

    public List<ReadState> Reads(ulong id) => _replicas[id].Reads;

    public IEnumerable<ulong> Ids => _replicas.Keys.Order();

    /// <summary>Adds a replica that starts from <paramref name="confState"/> (or empty, to join later).</summary>
    public void Add(ulong id, ConfState confState)
    {
        var storage = new MemoryRaftStorage();
        if (confState.Voters.Count > 0)
        {
            // Bootstrap: every member starts from the same snapshot holding the initial configuration.
            storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(1, 1, confState), []));
            storage.SetHardState(new HardState(1, 0, 1));
        }

        _replicas[id] = new Replica(storage, NewNode(id, storage));
    }

    /// <summary>Simulates a crash and restart: the replica keeps only what it persisted.</summary>
    public void Restart(ulong id)
    {
        var replica = _replicas[id];
        replica.Node = NewNode(id, replica.Storage, applied: replica.Applied.Count == 0 ? 0 : replica.Applied[^1].Index);
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
            _replicas[id].Node.Tick();
        }
    }

    public void TickAll(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var id in Ids)
            {
                _replicas[id].Node.Tick();
            }

            Stabilize();
        }
    }

    public void Campaign(ulong id)
    {
        _replicas[id].Node.Campaign();
        Stabilize();
    }

    public ProposalResult Propose(ulong id, string data)
    {
        var result = _replicas[id].Node.Propose(System.Text.Encoding.UTF8.GetBytes(data));
        Stabilize();
        return result;
    }

    /// <summary>Processes every replica's Ready and delivers every message until nothing moves.</summary>
    public void Stabilize(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var moved = false;
            foreach (var id in Ids)
            {
                moved |= ProcessReady(id);
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
                    _replicas[m.To].Node.Step(m);
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
        ProcessReady(id);
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
        _replicas[m.To].Node.Step(m);
    }

    public RaftNode? Leader() => _replicas.Values.Select(r => r.Node).Where(n => n.Role == RaftRole.Leader).OrderByDescending(n => n.Term).FirstOrDefault();

    public string TraceText => string.Join('\n', Trace);

    private RaftNode NewNode(ulong id, MemoryRaftStorage storage, ulong applied = 0) => new(
        Configure(id, new RaftConfig { Id = id, ElectionTick = 10, HeartbeatTick = 1, Random = new SeededRandom(Seed * 1000 + id), Applied = applied }),
        storage);

    private bool ProcessReady(ulong id)
    {
        var replica = _replicas[id];
        var node = replica.Node;
        if (!node.HasReady)
        {
            return false;
        }

        var ready = node.GetReady();
        if (ready.Snapshot is { } snapshot)
        {
            replica.Storage.ApplySnapshot(snapshot);
            replica.Applied.Clear();
            replica.Applied.Add(new RaftEntry(snapshot.Metadata.Term, snapshot.Metadata.Index, EntryType.Normal, snapshot.Data));
        }

        replica.Storage.Append(ready.Entries);
        if (!ready.HardState.IsEmpty)
        {
            replica.Storage.SetHardState(ready.HardState);
        }

        foreach (var m in ready.Messages)
        {
            _inFlight.Enqueue(m);
        }

        foreach (var entry in ready.CommittedEntries)
        {
            replica.Applied.Add(entry);
            if (entry.Type == EntryType.ConfChange)
            {
                node.ApplyConfChange(ConfChange.Decode(entry.Data));
            }
        }

        replica.Reads.AddRange(ready.ReadStates);
        node.Advance(ready);
        return true;
    }

    private sealed class Replica(MemoryRaftStorage storage, RaftNode node)
    {
        public MemoryRaftStorage Storage { get; } = storage;

        public RaftNode Node { get; set; } = node;

        public List<RaftEntry> Applied { get; } = [];

        public List<ReadState> Reads { get; } = [];
    }
}
