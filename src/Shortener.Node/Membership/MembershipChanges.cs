using Shortener.Core.Cluster;

namespace Shortener.Node.Membership;

/// <summary>
/// The rules of `cluster add-node` and `remove-node` as functions from the current topology to the
/// next member list (null when there is nothing to change, so a retried request is harmless).
/// A removal takes two changes: the member is first marked leaving, which empties its place in the
/// shards, and is dropped once no shard's configuration names it.
/// </summary>
public static class MembershipChanges
{
    /// <summary>How far past the next free id an operator may pick one (ids are never reused; they must not run out).</summary>
    public const ulong MaxIdSkip = 1_000_000;

    public static ClusterMembership? Add(ClusterTopology topology, ClusterMember member, bool canGrow)
    {
        if (topology.Member(member.Id) is { } existing)
        {
            if (existing with { Leaving = false } == member && !existing.Leaving)
            {
                return null;
            }

            throw new MembershipRefusedException(MembershipRefusal.Conflict, $"node {member.Id} is already a member ({existing.Dc}, {existing.PeerUrl}{(existing.Leaving ? ", leaving" : string.Empty)}); the next free id is {topology.NextId}");
        }

        if (member.Id > topology.NextId + MaxIdSkip)
        {
            throw new MembershipRefusedException(MembershipRefusal.Invalid, $"node id {member.Id} is far beyond the next free id {topology.NextId}; ids must stay below {topology.NextId + MaxIdSkip}");
        }

        if (member.Id < topology.NextId)
        {
            throw new MembershipRefusedException(MembershipRefusal.Conflict, $"node id {member.Id} was used before and ids are never reused; the next free id is {topology.NextId}");
        }

        if (!canGrow)
        {
            throw new MembershipRefusedException(
                MembershipRefusal.Conflict,
                "this node runs alone without a cluster secret and peer address, so nobody can join it; restart it with SHORTENER_CLUSTER_SECRET and --peer-url first");
        }

        var members = topology.Members.Append(member).ToArray();
        var errors = (topology with { Members = members }).Validate();
        if (errors.Count > 0)
        {
            throw new MembershipRefusedException(MembershipRefusal.Invalid, string.Join("; ", errors));
        }

        return new ClusterMembership(members, Math.Max(topology.NextId - 1, member.Id));
    }

    /// <summary>The first step of a removal: marks the member leaving (null if it is already, or already gone).</summary>
    public static ClusterMembership? Leave(ClusterTopology topology, ulong id)
    {
        if (topology.Member(id) is not { } member)
        {
            if (id == 0 || id >= topology.NextId)
            {
                throw new MembershipRefusedException(MembershipRefusal.NotFound, $"node {id} is not a member (members: {string.Join(", ", topology.Members.Select(m => m.Id))})");
            }

            return null;
        }

        if (member.Leaving)
        {
            return null;
        }

        if (!topology.Members.Any(m => m.Id != id && !m.Leaving))
        {
            throw new MembershipRefusedException(MembershipRefusal.Conflict, $"node {id} is the cluster's last member; a cluster cannot remove every node");
        }

        return new ClusterMembership(topology.Members.Select(m => m.Id == id ? m with { Leaving = true } : m).ToArray(), topology.NextId - 1);
    }

    /// <summary>The last step: drops a leaving member (null unless it is one).</summary>
    public static ClusterMembership? Drop(ClusterTopology topology, ulong id) =>
        topology.Member(id) is { Leaving: true }
            ? new ClusterMembership(topology.Members.Where(m => m.Id != id).ToArray(), topology.NextId - 1)
            : null;
}

public enum MembershipRefusal
{
    Invalid,
    NotFound,
    Conflict,
}

public sealed class MembershipRefusedException(MembershipRefusal refusal, string message) : Exception(message)
{
    public MembershipRefusal Refusal { get; } = refusal;
}
