namespace Shortener.Core.Clocks;

/// <summary>
/// A vector clock: for each node, how many of its events are known. Immutable; entries kept
/// sorted by node so equal vectors compare and hash alike and serialise the same everywhere.
/// A missing node counts 0.
/// </summary>
public sealed class VersionVector : IEquatable<VersionVector>
{
    private readonly (ulong Node, ulong Counter)[] _entries;

    private VersionVector((ulong Node, ulong Counter)[] sortedEntries) => _entries = sortedEntries;

    public static VersionVector Empty { get; } = new([]);

    public static VersionVector From(IEnumerable<(ulong Node, ulong Counter)> entries)
    {
        var merged = new SortedDictionary<ulong, ulong>();
        foreach (var (node, counter) in entries)
        {
            if (counter > 0)
            {
                merged[node] = Math.Max(counter, merged.GetValueOrDefault(node));
            }
        }

        return new VersionVector(merged.Select(kv => (kv.Key, kv.Value)).ToArray());
    }

    public IReadOnlyList<(ulong Node, ulong Counter)> Entries => _entries;

    public ulong this[ulong node]
    {
        get
        {
            var i = IndexOf(node);
            return i >= 0 ? _entries[i].Counter : 0;
        }
    }

    /// <summary>Whether the event <paramref name="dot"/> is among those this vector has seen.</summary>
    public bool Covers(Dot dot) => dot.Counter <= this[dot.Node];

    /// <summary>This vector with <paramref name="node"/>'s next event recorded.</summary>
    public VersionVector Increment(ulong node) => With(new Dot(node, this[node] + 1));

    /// <summary>This vector having seen <paramref name="dot"/> (a counter never goes down).</summary>
    public VersionVector With(Dot dot)
    {
        if (Covers(dot))
        {
            return this;
        }

        var i = IndexOf(dot.Node);
        if (i >= 0)
        {
            var copy = (((ulong Node, ulong Counter)[])_entries.Clone());
            copy[i] = (dot.Node, dot.Counter);
            return new VersionVector(copy);
        }

        var at = ~i;
        var grown = new (ulong Node, ulong Counter)[_entries.Length + 1];
        Array.Copy(_entries, grown, at);
        grown[at] = (dot.Node, dot.Counter);
        Array.Copy(_entries, at, grown, at + 1, _entries.Length - at);
        return new VersionVector(grown);
    }

    /// <summary>The least vector that has seen everything either has (pointwise maximum).</summary>
    public VersionVector Merge(VersionVector other)
    {
        var result = new List<(ulong, ulong)>(_entries.Length + other._entries.Length);
        int i = 0, j = 0;
        while (i < _entries.Length || j < other._entries.Length)
        {
            if (j == other._entries.Length || (i < _entries.Length && _entries[i].Node < other._entries[j].Node))
            {
                result.Add(_entries[i++]);
            }
            else if (i == _entries.Length || other._entries[j].Node < _entries[i].Node)
            {
                result.Add(other._entries[j++]);
            }
            else
            {
                result.Add((_entries[i].Node, Math.Max(_entries[i].Counter, other._entries[j].Counter)));
                i++;
                j++;
            }
        }

        return new VersionVector(result.ToArray());
    }

    /// <summary>Whether this vector has seen everything <paramref name="other"/> has.</summary>
    public bool Descends(VersionVector other) => other._entries.All(e => this[e.Node] >= e.Counter);

    public Causality Compare(VersionVector other) => (Descends(other), other.Descends(this)) switch
    {
        (true, true) => Causality.Equal,
        (true, false) => Causality.After,
        (false, true) => Causality.Before,
        _ => Causality.Concurrent,
    };

    public bool Equals(VersionVector? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);

    public override bool Equals(object? obj) => Equals(obj as VersionVector);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in _entries)
        {
            hash.Add(e.Node);
            hash.Add(e.Counter);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => "{" + string.Join(",", _entries.Select(e => $"{e.Node}:{e.Counter}")) + "}";

    private int IndexOf(ulong node)
    {
        int lo = 0, hi = _entries.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var n = _entries[mid].Node;
            if (n == node)
            {
                return mid;
            }

            if (n < node)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }
}
