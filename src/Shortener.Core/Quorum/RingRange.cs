namespace Shortener.Core.Quorum;

/// <summary>
/// One stretch of the ring between two consecutive tokens: positions [<see cref="From"/>,
/// <see cref="To"/>), wrapping past zero when From ≥ To (From = To is the whole ring, when only
/// one token exists), and the nodes that replicate every key in it.
/// </summary>
public sealed record RingRange(ulong From, ulong To, IReadOnlyList<ulong> Replicas)
{
    public bool Contains(ulong position) => From < To ? position >= From && position < To : position >= From || position < To;
}
