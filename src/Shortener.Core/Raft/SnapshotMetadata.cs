namespace Shortener.Core.Raft;

/// <summary>Where a snapshot stands in the log, and the membership at that point.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState)
{
    public static readonly SnapshotMetadata Empty = new(0, 0, ConfState.Empty);
}
