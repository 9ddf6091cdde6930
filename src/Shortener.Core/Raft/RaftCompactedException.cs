namespace Shortener.Core.Raft;

/// <summary>Entries were asked for below the first index still held: the caller needs the snapshot.</summary>
public sealed class RaftCompactedException(ulong requested, ulong firstIndex)
    : Exception($"entry {requested} is compacted; the log starts at {firstIndex}")
{
    public ulong Requested { get; } = requested;

    public ulong FirstIndex { get; } = firstIndex;
}
