namespace Shortener.Core.Links;

/// <summary>
/// The documents shard 0 replicates beside its links (<see cref="SetClusterDocument"/>): small,
/// cluster-wide settings every node must apply in the same order. Each is stored whole, under its
/// name, with a version that counts its changes.
/// </summary>
public static class ClusterDocumentNames
{
    /// <summary>The member list (<see cref="SetClusterMembers"/>).</summary>
    public const string Members = "cluster_members";

    /// <summary>The API keys and their roles, hashed.</summary>
    public const string ApiKeys = "api_keys";

    /// <summary>The change-data-capture sinks (docs/cdc.md).</summary>
    public const string Sinks = "sinks";

    /// <summary>Whether <paramref name="name"/> is a document the state machine keeps.</summary>
    public static bool IsKnown(string name) => name is Members or ApiKeys or Sinks;
}
