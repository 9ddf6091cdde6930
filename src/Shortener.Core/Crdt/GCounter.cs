namespace Shortener.Core.Crdt;

/// <summary>
/// A grow-only counter (a state-based CRDT): one entry per node that counts, each only ever
/// raised by that node's own events; replicas merge by taking each entry's maximum, so merging is
/// commutative, associative and idempotent, and the value (the sum of the entries) never counts an
/// event twice however often states are exchanged. Immutable; entries sorted by node, none zero,
/// so equal counters compare, hash and encode alike everywhere.
/// </summary>
public sealed class GCounter : IEquatable<GCounter>
{
    private readonly (ulong Node, long Count)[] _entries;

    private GCounter((ulong Node, long Count)[] sortedEntries)
    {
        _entries = sortedEntries;
        Value = sortedEntries.Sum(e => e.Count);
    }

    public static GCounter Empty { get; } = new([]);

    /// <summary>The counter with these entries (a node named twice keeps its larger count; zeros are dropped).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count: a grow-only counter has none.</exception>
    public static GCounter From(IEnumerable<(ulong Node, long Count)> entries)
    {
        var merged = new SortedDictionary<ulong, long>();
        foreach (var (node, count) in entries)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            if (count > 0)
            {
                merged[node] = Math.Max(count, merged.GetValueOrDefault(node));
            }
        }

        return merged.Count == 0 ? Empty : new GCounter(merged.Select(kv => (kv.Key, kv.Value)).ToArray());
    }

    public IReadOnlyList<(ulong Node, long Count)> Entries => _entries;

    /// <summary>The count: the sum of every node's entry.</summary>
    public long Value { get; }

    public long this[ulong node]
    {
        get
        {
            foreach (var (n, count) in _entries)
            {
                if (n == node)
                {
                    return count;
                }
            }

            return 0;
        }
    }

    /// <summary>This counter with <paramref name="node"/>'s entry raised by <paramref name="by"/>.</summary>
    public GCounter Increment(ulong node, long by = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(by);
        return by == 0 ? this : Merge(From([(node, this[node] + by)]));
    }

    /// <summary>The least counter at least as high as both in every entry (pointwise maximum).</summary>
    public GCounter Merge(GCounter other)
    {
        if (other._entries.Length == 0 || ReferenceEquals(this, other))
        {
            return this;
        }

        if (_entries.Length == 0)
        {
            return other;
        }

        var result = new List<(ulong, long)>(_entries.Length + other._entries.Length);
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
                result.Add((_entries[i].Node, Math.Max(_entries[i].Count, other._entries[j].Count)));
                i++;
                j++;
            }
        }

        return new GCounter(result.ToArray());
    }

    /// <summary>Whether every entry of this counter is at least <paramref name="other"/>'s: it has seen everything the other has.</summary>
    public bool Covers(GCounter other) => other._entries.All(e => this[e.Node] >= e.Count);

    public bool Equals(GCounter? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);

    public override bool Equals(object? obj) => Equals(obj as GCounter);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in _entries)
        {
            hash.Add(e.Node);
            hash.Add(e.Count);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => "{" + string.Join(",", _entries.Select(e => $"{e.Node}:{e.Count}")) + "}";
}
