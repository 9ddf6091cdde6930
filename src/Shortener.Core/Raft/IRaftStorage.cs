namespace Shortener.Core.Raft;

/// <summary>
/// The durable log as the engine reads it. The driver writes (after persisting to disk); the engine
/// only reads. Index 0 / term 0 is the empty log's origin.
/// </summary>
public interface IRaftStorage
{
    (HardState HardState, ConfState ConfState) InitialState();

    /// <summary>Entries [lo, hi), at least one if any, and then no more than <paramref name="maxBytes"/> payload bytes.</summary>
    IReadOnlyList<RaftEntry> Entries(ulong lo, ulong hi, long maxBytes);

    /// <summary>The term of entry <paramref name="index"/>, or null if it is compacted or beyond the last index.</summary>
    ulong? Term(ulong index);

    /// <summary>The first index still held as an entry (snapshot index + 1).</summary>
    ulong FirstIndex { get; }

    ulong LastIndex { get; }

    RaftSnapshot Snapshot();
}
