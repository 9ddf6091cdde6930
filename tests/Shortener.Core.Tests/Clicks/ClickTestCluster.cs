using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Clicks;

/// <summary>
/// ClickNodes on one manual clock with in-memory stores. Messages go through the codec and are
/// delivered at the next step unless <see cref="Cut"/> drops them; <see cref="Down"/> is what
/// every node's liveness says (what gossip would say), independently of whether messages pass.
/// </summary>
internal sealed class ClickTestCluster
{
    private readonly List<ClickMessage> _inFlight = [];

    public ClickTestCluster(int nodes, int dcs = 3, ClickSettings? settings = null, ulong seed = 1)
    {
        Settings = settings ?? new ClickSettings { AntiEntropyIntervalMs = 1_000_000_000 };
        var ring = new HashRing(Enumerable.Range(1, nodes).Select(i => new RingNode((ulong)i, $"dc{((i - 1) % dcs) + 1}", HashRing.TokensFor((ulong)i))));
        var random = new SeededRandom(seed);
        for (var i = 1; i <= nodes; i++)
        {
            var id = (ulong)i;
            Stores[id] = new InMemoryClickReplicaStore();
            Hints[id] = new InMemoryHintStore();
            var node = new ClickNode(id, $"dc{((i - 1) % dcs) + 1}", Settings, Stores[id], Hints[id], peer => !Down.Contains(peer), new SeededRandom(random.NextUInt64()), Now);
            node.SetRing(ring);
            Nodes[id] = node;
        }
    }

    public ClickSettings Settings { get; }

    public long Now { get; private set; }

    /// <summary>The nodes' wall clock (what sealing reads): the start of day 20,001, the day after <see cref="Click"/>'s default day; it runs with <see cref="Now"/>.</summary>
    public long WallMs { get; set; } = 20_001L * 86_400_000;

    public Dictionary<ulong, ClickNode> Nodes { get; } = [];

    public Dictionary<ulong, InMemoryClickReplicaStore> Stores { get; } = [];

    public Dictionary<ulong, InMemoryHintStore> Hints { get; } = [];

    public HashSet<ulong> Down { get; } = [];

    /// <summary>Pairs (from, to) whose messages are dropped.</summary>
    public HashSet<(ulong, ulong)> Cut { get; } = [];

    public List<ClickCompletion> Completions { get; } = [];

    public long MessagesSent { get; private set; }

    public void Isolate(ulong node)
    {
        foreach (var other in Nodes.Keys.Where(n => n != node))
        {
            Cut.Add((node, other));
            Cut.Add((other, node));
        }
    }

    /// <summary>Runs <paramref name="ms"/> of time in 10 ms steps: each step ticks every node and delivers what was sent.</summary>
    public void Run(long ms)
    {
        var end = Now + ms;
        while (Now < end)
        {
            Now += 10;
            WallMs += 10;
            foreach (var node in Nodes.Values)
            {
                node.Tick(Now, WallMs);
            }

            Deliver();
        }
    }

    /// <summary>Delivers messages (and the messages they cause) until none is left.</summary>
    public void Deliver()
    {
        Collect();
        while (_inFlight.Count > 0)
        {
            var batch = _inFlight.ToList();
            _inFlight.Clear();
            foreach (var message in batch)
            {
                if (!Cut.Contains((message.From, message.To)) && Nodes.TryGetValue(message.To, out var target))
                {
                    target.Step(ClickMessageCodec.Decode(ClickMessageCodec.Encode(message)));
                }
            }

            Collect();
        }
    }

    public ClickCompletion Await(ulong node, ulong op, long maxMs = 10_000)
    {
        for (long waited = 0; waited <= maxMs; waited += 10)
        {
            Deliver();
            if (Completions.FirstOrDefault(c => c.Op == op) is { } done)
            {
                return done;
            }

            Run(10);
        }

        throw new TimeoutException($"operation {op} on node {node} did not end");
    }

    public ClickCompletion Write(ulong node, IReadOnlyList<ClickEvent> events, ConsistencyLevel level = ConsistencyLevel.Quorum) =>
        Await(node, Nodes[node].Write(events, level));

    public ClickCompletion Read(ulong node, string code, ConsistencyLevel level = ConsistencyLevel.Quorum) =>
        Await(node, Nodes[node].Read(code, 0, int.MaxValue, level));

    public IReadOnlyList<ulong> Owners(string code) => Nodes[1].Ring.Replicas(HashRing.KeyHash(code), Nodes[1].ReplicationFactor);

    public static ClickEvent Click(string code, int day = 20_000, ClickKind kind = ClickKind.Human, string? referrer = null, ulong origin = 0) =>
        new(Guid.NewGuid(), code, (day * 86_400_000L) + 5_000, new HlcTimestamp((day * 86_400_000L) + 5_000, 0), kind, referrer, null) { Origin = origin };

    private void Collect()
    {
        foreach (var node in Nodes.Values)
        {
            var sent = node.TakeMessages();
            MessagesSent += sent.Count;
            _inFlight.AddRange(sent);
            Completions.AddRange(node.TakeCompletions());
        }
    }
}
