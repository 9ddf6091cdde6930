using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Node.Shards;

namespace Shortener.Node.Membership;

/// <summary>
/// Changes of the member list, which lives in shard 0's log, and the checks around them: what a
/// removal still waits for, and whether a node may join empty.
/// </summary>
public sealed class MembershipService(ShardHost shards, MemberList members, TimeProvider time)
{
    /// <summary>
    /// Changes the member list through shard 0: reads the current list linearizably, lets
    /// <paramref name="change"/> compute the new one (it throws to refuse), and proposes it against
    /// the version it read; a concurrent change makes it start over. Returns the topology once this
    /// node applied the change.
    /// </summary>
    public async Task<ClusterTopology> ChangeMembersAsync(Func<ClusterTopology, ClusterMembership?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await shards.Replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
            var current = members.Topology;
            if (change(current) is not { } membership)
            {
                return current;
            }

            var command = new SetClusterMembers(time.GetUtcNow().ToUnixTimeMilliseconds(), current.Version, membership.Serialize());
            var result = await shards.Replicas[0].ProposeAsync(new LinkCommandEnvelope(command), cancellationToken).ConfigureAwait(false);
            if (result.Outcome == CommandOutcome.Ok)
            {
                return members.Topology;
            }

            if (attempt == 5)
            {
                throw new MembershipRefusedException(MembershipRefusal.Conflict, $"the member list kept changing underneath (now at version {result.DocumentVersion}); try again");
            }
        }
    }

    /// <summary>The shards whose configuration still names <paramref name="id"/>, each checked after a linearizable read.</summary>
    public async Task<IReadOnlyList<int>> ShardsListingAsync(ulong id, CancellationToken cancellationToken)
    {
        var listing = new List<int>();
        foreach (var replica in shards.Replicas)
        {
            await replica.WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
            if (replica.Status.Config.Contains(id))
            {
                listing.Add(replica.Shard);
            }
        }

        return listing;
    }

    /// <summary>
    /// The topology a node joining empty starts from, once up to date with shard 0 (so a member
    /// added a moment ago is in it). Refused for a node that votes somewhere or founded the cluster:
    /// it holds entries a quorum counted on, so it must come back on its own data dir, never empty.
    /// </summary>
    public async Task<ClusterTopology> JoinAsync(ulong node, CancellationToken cancellationToken)
    {
        await shards.Replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
        var topology = members.Topology;
        if (topology.IsFounder(node) || shards.Replicas.Any(r => r.Status.Config.Voters.Contains(node) || r.Status.Config.VotersOutgoing.Contains(node)))
        {
            throw new MembershipRefusedException(
                MembershipRefusal.Conflict,
                $"node {node} already holds shard data in this cluster; restart it on its own data dir, or remove it (cluster remove-node) and add a node under a new id");
        }

        return topology;
    }
}
