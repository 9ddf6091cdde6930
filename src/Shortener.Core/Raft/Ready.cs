namespace Shortener.Core.Raft;

/// <summary>
/// Work for the driver, to be done in order: persist <see cref="HardState"/>, <see cref="Snapshot"/>
/// and <see cref="Entries"/> (fsync if <see cref="MustSync"/>); send <see cref="Messages"/>; apply
/// <see cref="CommittedEntries"/>; serve <see cref="ReadStates"/>; then call <see cref="RaftNode.Advance"/>.
/// </summary>
public sealed record Ready
{
    public SoftState? SoftState { get; init; }

    /// <summary>Empty when unchanged since the last Ready.</summary>
    public HardState HardState { get; init; }

    public RaftSnapshot? Snapshot { get; init; }

    public IReadOnlyList<RaftEntry> Entries { get; init; } = [];

    public IReadOnlyList<RaftEntry> CommittedEntries { get; init; } = [];

    public IReadOnlyList<RaftMessage> Messages { get; init; } = [];

    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    public bool MustSync { get; init; }
}
