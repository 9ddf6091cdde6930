using Shortener.Core.Links;

namespace Shortener.Core.Cluster;

/// <summary>
/// The cluster: its members, the number of link shards and their replication factor, and the code
/// key and length every node must share (a code's shard depends on them). The members change
/// through shard 0's log (<see cref="Version"/> counts the changes); the founders, the members the
/// cluster was created with, never do: each founder bootstraps every shard from their placement, so
/// they agree on the first configuration without talking. A node added later starts its shards
/// empty and is brought in by the shard leaders.
/// </summary>
public sealed record ClusterTopology(
    IReadOnlyList<ClusterMember> Members,
    int Shards,
    int ReplicationFactor,
    ulong CodeKey,
    int CodeLength,
    long Version = 0,
    IReadOnlyList<ClusterMember>? Founders = null,
    ulong HighestId = 0)
{
    public const int DefaultShards = 16;

    public const int DefaultReplicationFactor = 3;

    public ClusterMember? Member(ulong id) => Members.FirstOrDefault(m => m.Id == id);

    public ShardRouter CreateRouter() => new(new CodeScrambler(CodeKey, CodeLength), Shards);

    /// <summary>Where each shard should be now: on the members that are not leaving.</summary>
    public IReadOnlyList<ShardReplicas> Placement() => ShardPlacement.Place(Members.Where(m => !m.Leaving).ToArray(), Shards, ReplicationFactor);

    /// <summary>Where each shard started: on the founders.</summary>
    public IReadOnlyList<ShardReplicas> BootstrapPlacement() => ShardPlacement.Place(Founders ?? Members, Shards, ReplicationFactor);

    public bool IsFounder(ulong id) => (Founders ?? Members).Any(m => m.Id == id);

    /// <summary>The smallest id never used in this cluster: ids are not reused, so a new node cannot be mistaken for an old one's replicas.</summary>
    public ulong NextId => Math.Max(HighestId, Members.Concat(Founders ?? []).Max(m => m.Id)) + 1;

    /// <summary>This topology with another member list (from shard 0), keeping the founders.</summary>
    public ClusterTopology WithMembers(ClusterMembership membership, long version) => this with
    {
        Members = membership.Members,
        Version = version,
        Founders = Founders ?? Members,
        HighestId = Math.Max(NextId - 1, membership.HighestId),
    };

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

            if (!IsHttpUrl(member.PeerUrl) || !IsHttpUrl(member.HttpUrl))
            {
                errors.Add($"member {member.Id} needs absolute http:// or https:// peer and HTTP URLs (got '{member.PeerUrl}', '{member.HttpUrl}')");
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

    /// <summary>An absolute http:// or https:// URL with a host: what peer and HTTP addresses must be.</summary>
    public static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host);
}
