namespace Shortener.Core.Cluster;

/// <summary>
/// One node of the cluster: its Raft id (the same in every shard), its data centre, where peers
/// reach it (gRPC, HTTP/2) and where clients reach it (HTTP API and redirects).
/// </summary>
public sealed record ClusterMember(ulong Id, string Dc, string PeerUrl, string HttpUrl);
