using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Node.Hosting;
using Shortener.Node.Peers;
using Shortener.Storage;

namespace Shortener.Node.Membership;

/// <summary>
/// Finds this node's cluster at start: the topology kept in the data dir, else the topology file it
/// was given (copied into the data dir), else a new cluster of one. Refuses to start when this node
/// is not a member, or when the data dir belongs to the single-node layout from before shards.
/// </summary>
public static class ClusterBootstrap
{
    public static ClusterTopology LoadOrCreate(NodeOptions node, ClusterOptions cluster, Peers.PeerSecurity security, ILogger logger)
    {
        Directory.CreateDirectory(node.DataDir);
        var kept = Path.Combine(node.DataDir, TopologyFile.FileName);
        ClusterTopology topology;
        if (File.Exists(kept))
        {
            if (File.Exists(Path.Combine(node.DataDir, "cluster-secret")))
            {
                throw new StorageException($"{node.DataDir} is the data dir of a whole cluster (from `shortener up`); a node's data dir is one of its node-N directories");
            }

            topology = TopologyFile.Load(kept);
        }
        else
        {
            if (Directory.Exists(Path.Combine(node.DataDir, "shards")))
            {
                // A new topology (a new code key) over existing shards would route their codes elsewhere.
                throw new StorageException($"{node.DataDir} holds shard data but no {TopologyFile.FileName}; restore that file (every node has a copy) instead of starting a new cluster over the data");
            }

            if (File.Exists(Path.Combine(node.DataDir, "cluster-secret")) || Directory.EnumerateDirectories(node.DataDir, "node-*").Any())
            {
                throw new StorageException($"{node.DataDir} is the data dir of a whole cluster (from `shortener up`); a node's data dir is one of its node-N directories");
            }

            if (File.Exists(Path.Combine(node.DataDir, "links.db")))
            {
                throw new StorageException(
                    $"{node.DataDir} holds a single-node links.db from before link data was sharded; this version keeps links in shards/. Start with a new data dir (the old links.db is left untouched).");
            }

            if (!string.IsNullOrEmpty(cluster.Join))
            {
                if (!string.IsNullOrEmpty(cluster.TopologyFile))
                {
                    throw new StorageException("give either a topology file or a cluster to join, not both");
                }

                topology = FetchToJoin(cluster, security, logger);
            }
            else if (!string.IsNullOrEmpty(cluster.TopologyFile))
            {
                topology = TopologyFile.Load(cluster.TopologyFile);
                logger.LogInformation("Joining the cluster described in {File}", cluster.TopologyFile);
            }
            else
            {
                topology = new ClusterTopology(
                    [new ClusterMember(cluster.NodeId, cluster.Dc, cluster.PeerUrl ?? "http://127.0.0.1:9080", node.PublicBaseUrl ?? "http://127.0.0.1:8080")],
                    cluster.Shards,
                    ClusterTopology.DefaultReplicationFactor,
                    BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
                    node.CodeLength);
                var errors = topology.Validate();
                if (errors.Count > 0)
                {
                    throw new StorageException($"cannot create a cluster from these settings: {string.Join("; ", errors)}");
                }

                logger.LogInformation("Created a new single-node cluster with {Shards} shards", topology.Shards);
            }

            TopologyFile.Save(kept, topology);
        }

        if (topology.Member(cluster.NodeId) is not { } self)
        {
            throw new StorageException($"node {cluster.NodeId} is not a member of the cluster in {kept} (members: {string.Join(", ", topology.Members.Select(m => m.Id))}); check --id and --data, or, if it was removed, start it over with a new id and data dir");
        }

        if (!string.Equals(self.Dc, cluster.Dc, StringComparison.Ordinal) && cluster.Dc != new ClusterOptions().Dc)
        {
            logger.LogWarning("This node was configured for {Configured} but the cluster places it in {Dc}; the cluster's topology wins", cluster.Dc, self.Dc);
        }

        return topology;
    }

    /// <summary>Asks a member of a running cluster for its topology, which must already list this node.</summary>
    private static ClusterTopology FetchToJoin(ClusterOptions cluster, Peers.PeerSecurity security, ILogger logger)
    {
        if (string.IsNullOrEmpty(cluster.Secret))
        {
            throw new StorageException("joining a cluster needs its secret: set SHORTENER_CLUSTER_SECRET (the same on every node)");
        }

        if (!ClusterTopology.IsHttpUrl(cluster.Join) || !Uri.TryCreate(cluster.Join, UriKind.Absolute, out var seed))
        {
            throw new StorageException($"--join needs a member's peer URL, such as https://10.0.0.1:9080 (got '{cluster.Join}')");
        }

        if (security.Refusal(cluster.Join) is { } refusal)
        {
            throw new StorageException($"cannot join through {cluster.Join}: {refusal}");
        }

        string json;
        try
        {
            using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) };
            security.ConfigureClient(handler);
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(seed, new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
            var client = new Peers.Protocol.Peer.PeerClient(channel);
            var headers = new Grpc.Core.Metadata { { GrpcPeerTransport.SecretHeader, cluster.Secret } };
            json = client.Join(new Peers.Protocol.JoinRequest { NodeId = cluster.NodeId }, headers, DateTime.UtcNow.AddSeconds(15)).TopologyJson;
        }
        catch (Grpc.Core.RpcException e)
        {
            throw new StorageException($"cannot join through {seed}: {e.Status.StatusCode}: {e.Status.Detail}", e);
        }

        var topology = TopologyFile.Parse(json, seed.ToString());
        if (topology.Member(cluster.NodeId) is not { } self)
        {
            throw new StorageException(
                $"node {cluster.NodeId} is not a member of the cluster at {seed} (members: {string.Join(", ", topology.Members.Select(m => m.Id))}); add it first: shortener cluster add-node --id {cluster.NodeId} --dc DC --peer-url URL --http-url URL");
        }

        if (self.Leaving)
        {
            throw new StorageException($"node {cluster.NodeId} is leaving the cluster at {seed}; a node that leaves cannot join again under the same id");
        }

        logger.LogInformation("Joining the cluster at {Seed} as node {Node} ({Dc}); its shards start empty and fill from the leaders' snapshots", seed, self.Id, self.Dc);
        return topology;
    }
}
