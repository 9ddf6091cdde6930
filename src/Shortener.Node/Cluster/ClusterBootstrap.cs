using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Node.Hosting;
using Shortener.Storage;

namespace Shortener.Node.Cluster;

/// <summary>
/// Finds this node's cluster at start: the topology kept in the data dir, else the topology file it
/// was given (copied into the data dir), else a new cluster of one. Refuses to start when this node
/// is not a member, or when the data dir belongs to the single-node layout from before shards.
/// </summary>
public static class ClusterBootstrap
{
    public static ClusterTopology LoadOrCreate(NodeOptions node, ClusterOptions cluster, ILogger logger)
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

            if (!string.IsNullOrEmpty(cluster.TopologyFile))
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
            throw new StorageException($"node {cluster.NodeId} is not a member of the cluster in {kept} (members: {string.Join(", ", topology.Members.Select(m => m.Id))}); check --id and --data");
        }

        if (!string.Equals(self.Dc, cluster.Dc, StringComparison.Ordinal) && cluster.Dc != new ClusterOptions().Dc)
        {
            logger.LogWarning("This node was configured for {Configured} but the cluster places it in {Dc}; the cluster's topology wins", cluster.Dc, self.Dc);
        }

        return topology;
    }
}
