namespace Shortener.Core.Clocks;

/// <summary>
/// The versions of one record that a replica holds, with dotted version vectors (Preguiça et al.;
/// Riak's DVVSet): each value carries the dot of the write that made it, and the set carries the
/// causal context of everything it has seen. A write replaces exactly the values its client had
/// seen (its context) and keeps concurrent ones as siblings; merging two replicas' sets keeps a
/// value unless the other side has seen its dot and dropped it. Unlike plain version vectors per
/// value, siblings do not multiply when many clients write through one coordinator.
/// Immutable; siblings sorted by dot, so every replica lists them alike.
/// </summary>
public sealed class DottedVersionVectorSet<T>
{
    private readonly (Dot Dot, T Value)[] _siblings;

    private DottedVersionVectorSet(VersionVector context, (Dot Dot, T Value)[] siblings)
    {
        Context = context;
        _siblings = siblings;
    }

    public static DottedVersionVectorSet<T> Empty { get; } = new(VersionVector.Empty, []);

    /// <summary>
    /// A set from its parts as another replica sent or a file kept them: every sibling's dot must
    /// be in the context, and no dot twice.
    /// </summary>
    /// <exception cref="ArgumentException">Parts no set could have.</exception>
    public static DottedVersionVectorSet<T> FromParts(VersionVector context, IEnumerable<(Dot Dot, T Value)> siblings)
    {
        var sorted = siblings.OrderBy(s => s.Dot).ToArray();
        for (var i = 0; i < sorted.Length; i++)
        {
            if (!context.Covers(sorted[i].Dot) || sorted[i].Dot.Counter == 0 || (i > 0 && sorted[i - 1].Dot == sorted[i].Dot))
            {
                throw new ArgumentException($"sibling {sorted[i].Dot} is not in the context {context} once");
            }
        }

        return new DottedVersionVectorSet<T>(context, sorted);
    }

    /// <summary>Every write this replica has seen (the context a client reads and sends back with its next write).</summary>
    public VersionVector Context { get; }

    /// <summary>The live values, each with the dot of the write that made it.</summary>
    public IReadOnlyList<(Dot Dot, T Value)> Siblings => _siblings;

    public IEnumerable<T> Values => _siblings.Select(s => s.Value);

    /// <summary>
    /// A write of <paramref name="value"/> coordinated here by <paramref name="node"/>, from a
    /// client that had read <paramref name="clientContext"/> (empty for a blind write): values the
    /// client had seen are replaced, the others stay as siblings. The new dot is the coordinator's
    /// next counter in this set's context joined with the client's, so one coordinator never reuses
    /// a dot it or the client has seen.
    /// </summary>
    public DottedVersionVectorSet<T> Put(VersionVector clientContext, ulong node, T value)
    {
        // The client's context joins this set's: what it read elsewhere and replaced must not come
        // back when this set later merges with the replica it read from.
        var context = Context.Merge(clientContext);
        var dot = new Dot(node, context[node] + 1);
        var kept = _siblings.Where(s => !clientContext.Covers(s.Dot)).Append((Dot: dot, Value: value)).OrderBy(s => s.Dot).ToArray();
        return new DottedVersionVectorSet<T>(context.With(dot), kept);
    }

    /// <summary>The union of two replicas' knowledge: commutative, associative and idempotent.</summary>
    public DottedVersionVectorSet<T> Merge(DottedVersionVectorSet<T> other)
    {
        var mine = _siblings.ToDictionary(s => s.Dot, s => s.Value);
        var theirs = other._siblings.ToDictionary(s => s.Dot, s => s.Value);
        var kept = new List<(Dot, T)>();
        foreach (var (dot, value) in _siblings)
        {
            if (!other.Context.Covers(dot) || theirs.ContainsKey(dot))
            {
                kept.Add((dot, value));
            }
        }

        foreach (var (dot, value) in other._siblings)
        {
            if (!mine.ContainsKey(dot) && !Context.Covers(dot))
            {
                kept.Add((dot, value));
            }
        }

        return new DottedVersionVectorSet<T>(Context.Merge(other.Context), kept.OrderBy(s => s.Item1).ToArray());
    }

    /// <summary>
    /// One value for the siblings by <paramref name="resolve"/> (which gets them in dot order, so
    /// every replica resolves alike), written back with this set's whole context: the result
    /// replaces every sibling here.
    /// </summary>
    public DottedVersionVectorSet<T> Resolve(ulong node, Func<IReadOnlyList<T>, T> resolve) =>
        _siblings.Length <= 1 ? this : Put(Context, node, resolve(_siblings.Select(s => s.Value).ToArray()));
}
