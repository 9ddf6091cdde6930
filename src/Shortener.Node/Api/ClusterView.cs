using Shortener.Core.Cluster;
using Shortener.Node.Faults;
using Shortener.Node.Membership;
using Shortener.Node.Shards;

namespace Shortener.Node.Api;

/// <summary>GET /admin/v1/cluster: the members, and this node's replica of each shard.</summary>
/// <param name="MembersVersion">How many membership changes the member list has been through.</param>
/// <param name="Gossip">What this node's gossip says of every member (empty on a node alone).</param>
/// <param name="Faults">The faults in force here in a line, each with the time it has left ("none" without).</param>
/// <param name="ActiveFaults">The same, one entry per fault.</param>
public sealed record ClusterView(ulong Node, string Dc, IReadOnlyList<ClusterMember> Members, int ReplicationFactor, string Faults, IReadOnlyList<ShardView> Shards, long MembersVersion = 0, IReadOnlyList<GossipMemberView>? Gossip = null, IReadOnlyList<FaultView>? ActiveFaults = null)
{
    public static ClusterView Of(ShardHost shards, MemberList members, NetworkFaults faults, GossipDriver gossip)
    {
        var topology = members.Topology;

        // A node removed from the cluster still answers, under the data centre it was started with.
        var dc = topology.Member(members.Self)?.Dc ?? shards.Options.Dc;
        return new ClusterView(
            members.Self,
            dc,
            topology.Members,
            topology.ReplicationFactor,
            faults.Current().Describe(faults.NowMs),
            shards.Replicas.Select(r => ShardView.Of(r.Shard, r.Status, r.AppliedAgeMs)).ToList(),
            topology.Version,
            gossip.Enabled ? gossip.View() : [],
            FaultView.Of(faults));
    }
}
