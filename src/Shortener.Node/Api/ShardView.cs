using Shortener.Core.Replication;

namespace Shortener.Node.Api;

/// <summary>One shard as this node's replica sees it. <see cref="Lag"/> (entries each replica is behind the leader's log) only on the leader.</summary>
public sealed record ShardView(
    int Shard,
    string Role,
    ulong Term,
    ulong Leader,
    ulong Commit,
    ulong Applied,
    ulong LastIndex,
    ulong SnapshotIndex,
    long AppliedAgeMs,
    IReadOnlyList<ulong> Voters,
    IReadOnlyList<ulong> Learners,
    IReadOnlyDictionary<string, ulong>? Lag,
    bool Failed)
{
    public static ShardView Of(int shard, ReplicaStatus s, long appliedAgeMs) => new(
        shard,
        s.Role.ToString().ToLowerInvariant(),
        s.Term,
        s.Leader,
        s.Commit,
        s.Applied,
        s.LastIndex,
        s.SnapshotIndex,
        appliedAgeMs,
        s.Config.Voters,
        s.Config.Learners,
        s.Match.Count == 0 ? null : s.Match.ToDictionary(m => m.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), m => s.LastIndex - Math.Min(s.LastIndex, m.Value)),
        s.Failed);
}
