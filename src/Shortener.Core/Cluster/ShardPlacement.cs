namespace Shortener.Core.Cluster;

/// <summary>
/// Places each shard's voters on distinct nodes, spread over as many data centres as there are,
/// and rotates the starting node from shard to shard so voters (and so leaders) spread evenly.
/// Every node that is not a voter holds the shard as a learner. Deterministic: the same members and
/// numbers give the same placement on every node.
/// </summary>
public static class ShardPlacement
{
    public static IReadOnlyList<ShardReplicas> Place(IReadOnlyList<ClusterMember> members, int shards, int replicationFactor)
    {
        var ordered = members.OrderBy(m => m.Id).ToArray();
        var replicas = new List<ShardReplicas>(shards);
        var factor = Math.Min(replicationFactor, ordered.Length);
        for (var shard = 0; shard < shards; shard++)
        {
            var rotated = ordered.Skip(shard % ordered.Length).Concat(ordered.Take(shard % ordered.Length)).ToArray();
            var voters = new List<ClusterMember>(factor);
            var dcs = new HashSet<string>(StringComparer.Ordinal);

            // First one voter per data centre, in rotated order; then fill from what is left.
            foreach (var member in rotated)
            {
                if (voters.Count < factor && dcs.Add(member.Dc))
                {
                    voters.Add(member);
                }
            }

            foreach (var member in rotated)
            {
                if (voters.Count < factor && !voters.Contains(member))
                {
                    voters.Add(member);
                }
            }

            var voterIds = voters.Select(v => v.Id).Order().ToArray();
            var learners = ordered.Select(m => m.Id).Where(id => !voterIds.Contains(id)).ToArray();
            replicas.Add(new ShardReplicas(shard, voterIds, learners));
        }

        return replicas;
    }
}
