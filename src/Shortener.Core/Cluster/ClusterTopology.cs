using Shortener.Core.Links;

namespace Shortener.Core.Cluster;

/// <summary>
/// The cluster as it was created: its members, the number of link shards and their replication
/// factor, and the code key and length every node must share (a code's shard depends on them).
/// Every node bootstraps every shard from the same topology, so they agree on the first
/// configuration without talking.
/// </summary>
public sealed record ClusterTopology(
    IReadOnlyList<ClusterMember> Members,
    int Shards,
    int ReplicationFactor,
    ulong CodeKey,
    int CodeLength)
{
    public const int DefaultShards = 16;

    public const int DefaultReplicationFactor = 3;

    public ClusterMember? Member(ulong id) => Members.FirstOrDefault(m => m.Id == id);

    public ShardRouter CreateRouter() => new(new CodeScrambler(CodeKey, CodeLength), Shards);

    public IReadOnlyList<ShardReplicas> Placement() => ShardPlacement.Place(Members, Shards, ReplicationFactor);

    /// <summary>Problems that make this topology unusable, in words an operator can act on; empty when it is fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Members.Count == 0)
        {
            errors.Add("the cluster has no members");
        }

        if (Members.Any(m => m.Id == 0))
        {
            errors.Add("member ids must be positive");
        }

        foreach (var duplicate in Members.GroupBy(m => m.Id).Where(g => g.Count() > 1))
        {
            errors.Add($"member id {duplicate.Key} appears {duplicate.Count()} times");
        }

        foreach (var duplicate in Members.GroupBy(m => m.PeerUrl, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add($"peer address {duplicate.Key} is shared by members {string.Join(", ", duplicate.Select(m => m.Id))}");
        }

        foreach (var member in Members)
        {
            if (string.IsNullOrWhiteSpace(member.Dc))
            {
                errors.Add($"member {member.Id} has no data centre");
            }

            if (!Uri.TryCreate(member.PeerUrl, UriKind.Absolute, out _) || !Uri.TryCreate(member.HttpUrl, UriKind.Absolute, out _))
            {
                errors.Add($"member {member.Id} needs absolute peer and HTTP URLs (got '{member.PeerUrl}', '{member.HttpUrl}')");
            }
        }

        if (Shards is < 1 or > 1024)
        {
            errors.Add($"shards must be between 1 and 1024 (got {Shards})");
        }

        if (ReplicationFactor < 1)
        {
            errors.Add($"the replication factor must be at least 1 (got {ReplicationFactor})");
        }

        if (CodeLength is < 5 or > 10)
        {
            errors.Add($"the code length must be between 5 and 10 (got {CodeLength})");
        }

        return errors;
    }
}
