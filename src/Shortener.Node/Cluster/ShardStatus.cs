using Shortener.Core.Raft;

namespace Shortener.Node.Cluster;

/// <summary>One replica's view of its shard. <see cref="Match"/> (per replica, how far its log matches) is known on the leader only.</summary>
public sealed record ShardStatus(
    int Shard,
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
