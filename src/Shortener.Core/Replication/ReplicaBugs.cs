namespace Shortener.Core.Replication;

/// <summary>
/// Bugs planted in the driver on purpose, so tests can prove the simulator's checkers catch them.
/// Off in production: only tests and <c>shortener sim raft --bug</c> set them.
/// </summary>
[Flags]
public enum ReplicaBugs
{
    None = 0,

    /// <summary>Send every Ready's messages before its records are synced, votes and follower acknowledgements included.</summary>
    SendBeforeFsync = 1,

    /// <summary>Answer a proposal as done as soon as the leader appended it, before it committed and applied.</summary>
    AckBeforeApply = 2,

    /// <summary>On a change of leader, forget proposals handed to the old one, neither retrying nor failing them.</summary>
    DropProposalsOnLeaderChange = 4,

    /// <summary>
    /// Install a received snapshot without its configuration: the snapshot is persisted with the
    /// membership this replica knew before it, and the membership history is not reset, so a
    /// restart (or a later snapshot of this replica's own) comes back with a stale configuration.
    /// </summary>
    InstallSnapshotWithoutConfiguration = 8,
}
