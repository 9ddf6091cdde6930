using Shortener.Core.Cluster;
using Shortener.Node.Cluster;

namespace Shortener.Node.Api;

/// <summary>GET /admin/v1/cluster: the members, and this node's replica of each shard.</summary>
/// <param name="MembersVersion">How many membership changes the member list has been through.</param>
/// <param name="Gossip">What this node's gossip says of every member (empty on a node alone).</param>
public sealed record ClusterView(ulong Node, string Dc, IReadOnlyList<ClusterMember> Members, int ReplicationFactor, string Faults, IReadOnlyList<ShardView> Shards, long MembersVersion = 0, IReadOnlyList<GossipMemberView>? Gossip = null)
{
    public static ClusterView Of(ShardHost host, GossipDriver gossip)
    {
        var topology = host.Topology;

        // A node removed from the cluster still answers, under the data centre it was started with.
        var dc = topology.Member(host.Options.NodeId)?.Dc ?? host.Options.Dc;
        return new ClusterView(
            host.Options.NodeId,
            dc,
            topology.Members,
            topology.ReplicationFactor,
            host.Faults.Current().Describe(),
            host.Replicas.Select(r => ShardView.Of(r.Status, r.AppliedAgeMs)).ToList(),
            topology.Version,
            gossip.Enabled ? gossip.View() : []);
    }
}
