using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// One replica's view of its group, refreshed after every round that changed anything.
/// <see cref="Match"/> (per replica, how far its log matches) is known on the leader only.
/// <see cref="FreshAtTick"/> is the latest tick at which this replica knew it had applied all its
/// leader had committed (every tick on a leader; 0 until a follower first hears from one).
/// </summary>
public sealed record ReplicaStatus(
    RaftRole Role,
    ulong Term,
    ulong Leader,
    ulong Commit,
    ulong Applied,
    ulong LastIndex,
    ulong SnapshotIndex,
    ConfState Config,
    IReadOnlyDictionary<ulong, ulong> Match,
    ulong Ticks,
    ulong FreshAtTick,
    int PendingProposals,
    int PendingReads,
    bool Failed);
