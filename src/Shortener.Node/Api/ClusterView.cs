using Shortener.Core.Cluster;
using Shortener.Node.Cluster;

namespace Shortener.Node.Api;

/// <summary>GET /admin/v1/cluster: the members, and this node's replica of each shard.</summary>
public sealed record ClusterView(ulong Node, string Dc, IReadOnlyList<ClusterMember> Members, int ReplicationFactor, string Faults, IReadOnlyList<ShardView> Shards)
{
    public static ClusterView Of(ShardHost host)
    {
        var self = host.Topology.Member(host.Options.NodeId)!;
        return new ClusterView(
            self.Id,
            self.Dc,
            host.Topology.Members,
            host.Topology.ReplicationFactor,
            host.Faults.Current().Describe(),
            host.Replicas.Select(r => ShardView.Of(r.Status, r.AppliedAgeMs)).ToList());
    }
}
