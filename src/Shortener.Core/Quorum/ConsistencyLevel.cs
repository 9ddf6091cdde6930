namespace Shortener.Core.Quorum;

/// <summary>How many of a key's N replicas must answer a read or write (Cassandra's names).</summary>
public enum ConsistencyLevel
{
    One,
    /// <summary>A majority of the N replicas, wherever they are.</summary>
    Quorum,
    All,
    /// <summary>A majority of the replicas in the coordinator's own data centre: no wait on other data centres.</summary>
    LocalQuorum,
}
