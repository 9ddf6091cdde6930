namespace Shortener.Core.Cluster;

/// <summary>
/// One node of the cluster: its Raft id (the same in every shard), its data centre, where peers
/// reach it (gRPC, HTTP/2) and where clients reach it (HTTP API and redirects). A member that is
/// <see cref="Leaving"/> is placed nowhere: its shards move to the others before it is removed.
/// </summary>
public sealed record ClusterMember(ulong Id, string Dc, string PeerUrl, string HttpUrl, bool Leaving = false);
