using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>Settings of one <see cref="ReplicaDriver{TResult}"/>. Times are in ticks.</summary>
public sealed record ReplicaOptions
{
    /// <summary>The engine's settings; the driver sets <see cref="RaftConfig.Applied"/> from the state machine.</summary>
    public required RaftConfig Raft { get; init; }

    /// <summary>This process's proposer number (see <see cref="ProposalId"/>); also tags read requests.</summary>
    public required ulong Proposer { get; init; }

    /// <summary>A proposal or read not answered within this many ticks fails (a proposal as "may have applied" if it was handed over).</summary>
    public int RequestTimeoutTicks { get; init; } = 50;

    /// <summary>A proposal handed over but not applied this many ticks later, with no change of leader, is proposed again.</summary>
    public int ReproposeTicks { get; init; } = 20;

    /// <summary>Applied entries between two snapshots (0: never snapshot).</summary>
    public int SnapshotEntries { get; init; } = 10_000;

    /// <summary>Entries kept below a snapshot, so a slightly lagging follower needs none.</summary>
    public int SnapshotKeepEntries { get; init; } = 1_000;

    /// <summary>Most proposals waiting at once; beyond it new ones are refused at once.</summary>
    public int MaxPendingProposals { get; init; } = 10_000;

    /// <summary>Most reads waiting at once; beyond it new ones are refused at once.</summary>
    public int MaxPendingReads { get; init; } = 10_000;

    /// <summary>
    /// Let a leader send its appends before its own fsync, so followers write in parallel with it
    /// (Raft thesis 10.2.1): it counts itself toward a quorum only once its entries are durable. A
    /// Ready that changes term or vote, or carries a snapshot, is still persisted first, and a
    /// follower never answers before its fsync.
    /// </summary>
    public bool LeaderSendsBeforeFsync { get; init; } = true;

    /// <summary>Planted bugs, for checker tests only.</summary>
    public ReplicaBugs Bugs { get; init; }

    /// <summary>A ReadIndex request unanswered for this long (its answer was lost) is asked again.</summary>
    public int ReadRetryTicks => 2 * Raft.ElectionTick;

    public void Validate()
    {
        Raft.Validate();
        if (RequestTimeoutTicks < 1 || ReproposeTicks < 1 || SnapshotEntries < 0 || SnapshotKeepEntries < 0 || MaxPendingProposals < 1 || MaxPendingReads < 1)
        {
            throw new ArgumentException("replica limits must be positive");
        }
    }
}
