using Shortener.Core.Clocks;

namespace Shortener.Core.Crdt;

/// <summary>
/// A grow-only counter (a state-based CRDT): one entry per node that counts, each only ever
/// raised by that node's own events; replicas merge by taking each entry's maximum, so merging is
/// commutative, associative and idempotent, and the value (the sum of the entries) never counts an
/// event twice however often states are exchanged. Its state is a version vector (node → how many
/// of its events are counted), merged the same way; the counter adds the sum. Immutable; entries
/// sorted by node, none zero, so equal counters compare, hash and encode alike everywhere.
/// </summary>
public sealed class GCounter : IEquatable<GCounter>
{
    private readonly VersionVector _counts;

    private GCounter(VersionVector counts)
    {
        _counts = counts;
        Value = counts.Entries.Sum(e => checked((long)e.Counter));
    }

    public static GCounter Empty { get; } = new(VersionVector.Empty);

    /// <summary>The counter with these entries (a node named twice keeps its larger count; zeros are dropped).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count: a grow-only counter has none.</exception>
    public static GCounter From(IEnumerable<(ulong Node, long Count)> entries) => new(VersionVector.From(entries.Select(e =>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(e.Count);
        return (e.Node, (ulong)e.Count);
    })));

    public IReadOnlyList<(ulong Node, long Count)> Entries => _counts.Entries.Select(e => (e.Node, (long)e.Counter)).ToList();

    /// <summary>The count: the sum of every node's entry.</summary>
    public long Value { get; }

    public long this[ulong node] => (long)_counts[node];

    /// <summary>This counter with <paramref name="node"/>'s entry raised by <paramref name="by"/>.</summary>
    public GCounter Increment(ulong node, long by = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(by);
        return by == 0 ? this : new GCounter(_counts.With(new Dot(node, _counts[node] + (ulong)by)));
    }

    /// <summary>The least counter at least as high as both in every entry (pointwise maximum).</summary>
    public GCounter Merge(GCounter other) =>
        other._counts.Entries.Count == 0 || ReferenceEquals(this, other) ? this : _counts.Entries.Count == 0 ? other : new GCounter(_counts.Merge(other._counts));

    /// <summary>Whether every entry of this counter is at least <paramref name="other"/>'s: it has seen everything the other has.</summary>
    public bool Covers(GCounter other) => _counts.Descends(other._counts);

    public bool Equals(GCounter? other) => other is not null && _counts.Equals(other._counts);

    public override bool Equals(object? obj) => Equals(obj as GCounter);

    public override int GetHashCode() => _counts.GetHashCode();

    public override string ToString() => _counts.ToString();
}
