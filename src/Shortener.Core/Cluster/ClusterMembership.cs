using System.Text.Json;

namespace Shortener.Core.Cluster;

/// <summary>
/// The member list as shard 0 replicates it (the document of a <see cref="Links.SetClusterMembers"/>
/// command): the members, and the highest id ever given, so that ids are never reused.
/// </summary>
public sealed record ClusterMembership(IReadOnlyList<ClusterMember> Members, ulong HighestId)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static ClusterMembership Parse(string document) =>
        JsonSerializer.Deserialize<ClusterMembership>(document, Json) is { Members: not null } membership
            ? membership
            : throw new JsonException("the member list is empty");
}
