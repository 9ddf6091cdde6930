namespace Shortener.Core.Raft;

/// <summary>What a node must persist before any message that depends on it leaves: its term, its vote in that term, and the commit index it knows.</summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public static readonly HardState Empty = default;

    public bool IsEmpty => this == Empty;
}
