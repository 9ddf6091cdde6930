namespace Shortener.Core.Cluster;

/// <summary>Where one shard lives: its voters (the Raft quorum) and its learners (every other node, for local reads and redirects).</summary>
public sealed record ShardReplicas(int Shard, IReadOnlyList<ulong> Voters, IReadOnlyList<ulong> Learners);
