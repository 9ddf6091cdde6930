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
}

// Skipping the fsync before acknowledging is planted in the simulated driver instead
// (SimDriverBugs.SendBeforeFsync): under the Ready contract the engine never sees the disk, and a
// leader counting its own unsynced entries changes nothing while its appends leave only after its write.
