namespace Shortener.Core.Raft;

/// <summary>Settings of one Raft replica. Times are in ticks; sizes in payload bytes.</summary>
public sealed record RaftConfig
{
    /// <summary>This replica's id (non-zero).</summary>
    public required ulong Id { get; init; }

    /// <summary>Ticks without hearing from a leader before a follower campaigns (randomised in [n, 2n)).</summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Ticks between leader heartbeats; must be less than <see cref="ElectionTick"/>.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>Most entry payload bytes in one append message (at least one entry is always sent).</summary>
    public long MaxSizePerMessage { get; init; } = 1 << 20;

    /// <summary>Appends a leader may have outstanding to one follower in the replicate state.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>Most payload bytes the leader holds proposed but not yet committed; beyond it proposals are refused.</summary>
    public long MaxUncommittedEntriesSize { get; init; } = 64L << 20;

    /// <summary>Largest snapshot chunk sent in one message.</summary>
    public int SnapshotChunkSize { get; init; } = 1 << 20;

    public bool PreVote { get; init; } = true;

    public bool CheckQuorum { get; init; } = true;

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Followers refuse proposals instead of forwarding them to the leader.</summary>
    public bool DisableProposalForwarding { get; init; }

    /// <summary>The index up to which the application has already applied entries (after a restart).</summary>
    public ulong Applied { get; init; }

    /// <summary>Seeds the election timeout randomisation.</summary>
    public required SeededRandom Random { get; init; }

    /// <summary>Planted bugs, for checker tests only.</summary>
    public RaftBugs Bugs { get; init; }

    public void Validate()
    {
        if (Id == 0)
        {
            throw new ArgumentException("raft id must not be 0");
        }

        if (HeartbeatTick <= 0 || ElectionTick <= HeartbeatTick)
        {
            throw new ArgumentException("need 0 < HeartbeatTick < ElectionTick");
        }

        if (MaxInflightMessages <= 0 || MaxSizePerMessage <= 0 || SnapshotChunkSize <= 0 || MaxUncommittedEntriesSize <= 0)
        {
            throw new ArgumentException("raft limits must be positive");
        }

        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
        {
            throw new ArgumentException("lease-based reads need CheckQuorum");
        }
    }
}
