namespace Shortener.Core.Cluster;

/// <summary>
/// Places each shard's voters on distinct nodes, spread over as many data centres as there are:
/// shard s starts at data centre s mod D and takes one member from each data centre in turn, the
/// member within a data centre rotating with s / D, until it has its voters. So every shard has a
/// voter in as many data centres as it can, and the nodes of one data centre share its votes
/// evenly (with two nodes in dc1 and one elsewhere, each dc1 node votes in half the shards). Every
/// node that is not a voter holds the shard as a learner. Deterministic: the same members and
/// numbers give the same placement on every node.
/// </summary>
public static class ShardPlacement
{
    public static IReadOnlyList<ShardReplicas> Place(IReadOnlyList<ClusterMember> members, int shards, int replicationFactor)
    {
        var ordered = members.OrderBy(m => m.Id).ToArray();
        var dcs = ordered.GroupBy(m => m.Dc, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();
        var replicas = new List<ShardReplicas>(shards);
        var factor = Math.Min(replicationFactor, ordered.Length);
        for (var shard = 0; shard < shards; shard++)
        {
            var voters = new List<ulong>(factor);
            for (var round = 0; voters.Count < factor; round++)
            {
                // Round r takes the r-th pick of each data centre that still has one.
                for (var j = 0; j < dcs.Length && voters.Count < factor; j++)
                {
                    var dc = dcs[(shard + j) % dcs.Length];
                    if (round < dc.Length)
                    {
                        voters.Add(dc[((shard / dcs.Length) + round) % dc.Length].Id);
                    }
                }
            }

            var voterIds = voters.Order().ToArray();
            var learners = ordered.Select(m => m.Id).Where(id => !voterIds.Contains(id)).ToArray();
            replicas.Add(new ShardReplicas(shard, voterIds, learners));
        }

        return replicas;
    }
}
