using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// One replica's view of its group, refreshed after every round that changed something (a tick
/// alone changes nothing here). <see cref="Match"/> (per replica, how far its log matches) is
/// known on the leader only.
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
    bool Failed);
