namespace Shortener.Core.Raft;

/// <summary>
/// Known bugs that tests plant on purpose to prove the simulator's checkers catch them. All are off
/// in production; <see cref="RaftConfig.Bugs"/> is only ever set by tests and the simulator.
/// </summary>
[Flags]
public enum RaftBugs
{
    None = 0,

    /// <summary>Grant votes without checking that the candidate's log is at least as up to date.</summary>
    VoteWithoutLogCheck = 1,

    /// <summary>Commit any index a quorum has, even one from an earlier term (Raft §5.4.2, figure 8).</summary>
    CommitPreviousTermByCounting = 2,

    /// <summary>A follower answers ReadIndex from its own commit index without asking the leader.</summary>
    FollowerLocalReads = 4,

    /// <summary>On restart, take the membership from the snapshot and forget changes applied after it.</summary>
    ForgetMembershipOnRestart = 8,

    /// <summary>Hand out entries to apply as soon as they are durable here, before they are known committed.</summary>
    ApplyPastCommit = 16,

    /// <summary>A new leader answers ReadIndex before an entry of its own term committed (its commit index may lag its predecessor's).</summary>
    ReadIndexBeforeTermCommit = 32,

    /// <summary>A leader answers ReadIndex from its commit index without a heartbeat round confirming it still leads.</summary>
    ReadIndexWithoutHeartbeat = 64,
}

// Skipping the fsync before acknowledging is planted in the replica driver instead
// (ReplicaBugs.SendBeforeFsync): under the Ready contract the engine never sees the disk.
