using Shortener.Core.Cluster;

namespace Shortener.Core.Quorum;

/// <summary>
/// Consistent hashing with virtual nodes (Dynamo, Cassandra): each node holds several tokens on a
/// 64-bit ring, and a key belongs to the nodes met walking clockwise from its hash. Virtual nodes
/// spread a node's share evenly and, when a node joins or leaves, move only the keys next to its
/// tokens. Replicas are placed across data centres first (one per data centre until each has one,
/// then the next distinct nodes), so N = 3 over three data centres puts one copy in each.
/// Immutable; built from the member list, identical on every node that has the same list.
/// </summary>
public sealed class HashRing
{
    public const int DefaultVirtualNodes = 16;

    private readonly ulong[] _tokens;
    private readonly ulong[] _owners;
    private readonly Dictionary<ulong, RingNode> _nodes;

    public HashRing(IEnumerable<RingNode> nodes)
    {
        _nodes = nodes.ToDictionary(n => n.Id);
        var entries = _nodes.Values
            .SelectMany(n => n.Tokens.Select(t => (Token: t, Node: n.Id)))
            .OrderBy(e => e.Token)
            .ThenBy(e => e.Node)
            .ToArray();
        _tokens = entries.Select(e => e.Token).ToArray();
        _owners = entries.Select(e => e.Node).ToArray();
    }

    public IReadOnlyCollection<RingNode> Nodes => _nodes.Values;

    public RingNode? Node(ulong id) => _nodes.GetValueOrDefault(id);

    /// <summary>A node's tokens, the same on every machine: its id and the vnode's number, mixed.</summary>
    public static IReadOnlyList<ulong> TokensFor(ulong nodeId, int virtualNodes = DefaultVirtualNodes) =>
        Enumerable.Range(0, virtualNodes).Select(i => SplitMix64.Mix((nodeId * 0x9E3779B97F4A7C15UL) ^ SplitMix64.Mix((ulong)i + 1))).ToArray();

    /// <summary>The ring position of a key (the same hash the link shards use).</summary>
    public static ulong KeyHash(string key) => ShardRouter.StableHash(key);

    /// <summary>Every node once, in the order met walking clockwise from <paramref name="keyHash"/>.</summary>
    public IReadOnlyList<ulong> Walk(ulong keyHash)
    {
        var order = new List<ulong>(_nodes.Count);
        if (_tokens.Length == 0)
        {
            return order;
        }

        var start = Array.BinarySearch(_tokens, keyHash);
        start = start >= 0 ? start : ~start;
        for (var i = 0; i < _tokens.Length && order.Count < _nodes.Count; i++)
        {
            var owner = _owners[(start + i) % _tokens.Length];
            if (!order.Contains(owner))
            {
                order.Add(owner);
            }
        }

        return order;
    }

    /// <summary>The key's <paramref name="n"/> replicas (its preference list): one per data centre first, in ring order, then the next distinct nodes.</summary>
    public IReadOnlyList<ulong> Replicas(ulong keyHash, int n)
    {
        var walk = Walk(keyHash);
        var chosen = new List<ulong>(n);
        var dcs = new HashSet<string>();
        foreach (var node in walk)
        {
            if (chosen.Count < n && dcs.Add(_nodes[node].Dc))
            {
                chosen.Add(node);
            }
        }

        foreach (var node in walk)
        {
            if (chosen.Count < n && !chosen.Contains(node))
            {
                chosen.Add(node);
            }
        }

        return chosen;
    }

    /// <summary>
    /// The ring cut at every token: for each token t, the positions after the previous token up to
    /// and including t (the keys whose walk starts at t), with their <paramref name="n"/> replicas.
    /// In ring order, starting after the last token (so the first range wraps past zero).
    /// </summary>
    public IReadOnlyList<RingRange> Ranges(int n)
    {
        var ranges = new List<RingRange>(_tokens.Length);
        for (var i = 0; i < _tokens.Length; i++)
        {
            var previous = _tokens[(i + _tokens.Length - 1) % _tokens.Length];
            if (_tokens.Length > 1 && previous == _tokens[i])
            {
                continue; // two nodes drew the same token: the second range would be empty
            }

            ranges.Add(new RingRange(previous + 1, _tokens[i] + 1, Replicas(_tokens[i], n)));
        }

        return ranges;
    }

    /// <summary>The index in <paramref name="ranges"/> (from <see cref="Ranges"/>) of the range holding <paramref name="position"/>.</summary>
    public static int RangeOf(IReadOnlyList<RingRange> ranges, ulong position)
    {
        // Ranges end (exclusively) at token + 1 in ascending order after the first, which wraps.
        var lo = 1;
        var hi = ranges.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (ranges[mid].Contains(position))
            {
                return mid;
            }

            if (position < ranges[mid].From)
            {
                hi = mid - 1;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return 0;
    }

    /// <summary>
    /// Where a write of the key goes when some replicas are down (sloppy quorum): each replica that
    /// is up gets its copy; each that is down is stood in for by the next node on the walk that is up
    /// and not already used, which keeps the copy as a hint for it. A down replica with no stand-in
    /// left is skipped (the write counts what it can).
    /// </summary>
    public IReadOnlyList<ReplicaTarget> Targets(ulong keyHash, int n, Func<ulong, bool> isUp)
    {
        var replicas = Replicas(keyHash, n);
        var used = replicas.Where(isUp).ToHashSet();
        var spare = new Queue<ulong>(Walk(keyHash).Where(id => !replicas.Contains(id) && isUp(id)));
        var targets = new List<ReplicaTarget>(replicas.Count);
        foreach (var owner in replicas)
        {
            var dc = _nodes[owner].Dc;
            if (isUp(owner))
            {
                targets.Add(new ReplicaTarget(owner, owner, dc, dc));
            }
            else if (spare.TryDequeue(out var standIn) && used.Add(standIn))
            {
                targets.Add(new ReplicaTarget(standIn, owner, dc, _nodes[standIn].Dc));
            }
        }

        return targets;
    }
}
