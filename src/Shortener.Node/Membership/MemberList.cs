using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Node.Hosting;
using Shortener.Node.Peers;

namespace Shortener.Node.Membership;

/// <summary>
/// The cluster as this node knows it: the member list (replicated in shard 0's log) and the shard
/// placement it gives. A newer list applied from shard 0 (<see cref="Adopt"/>) replaces both at
/// once, opens and closes peer links, and is saved to the data dir's cluster.json for the next
/// start (which also reads shard 0, so the file is a convenience, not the record).
/// </summary>
public sealed class MemberList : IClusterDocumentReader
{
    private readonly Lock _lock = new();
    private readonly ClusterOptions _options;
    private readonly ClusterSecret _secret;
    private readonly string _dataDir;
    private readonly IPeerTransport _peers;
    private readonly ILogger<MemberList> _logger;

    // The topology and its placement, replaced together so a reader never sees one without the other.
    private volatile Current _current;

    public MemberList(ClusterTopology topology, ClusterOptions options, ClusterSecret secret, string dataDir, IPeerTransport peers, ILogger<MemberList> logger)
    {
        _current = new Current(topology, topology.Placement());
        _options = options;
        _secret = secret;
        _dataDir = dataDir;
        _peers = peers;
        _logger = logger;
    }

    public ClusterTopology Topology => _current.Topology;

    string IClusterDocumentReader.Name => Core.Links.ClusterDocumentNames.Members;

    public ulong Self => _options.NodeId;

    /// <summary>This node's data centre (as the member list has it; a removed node keeps the one it started with).</summary>
    public string Dc => Topology.Member(_options.NodeId)?.Dc ?? _options.Dc;

    /// <summary>
    /// Whether nodes can be added: a cluster of several can always grow; a node alone only when it
    /// has a secret and listens for peers at the address its topology gives.
    /// </summary>
    public bool CanGrow =>
        Topology.Members.Count > 1
        || (_secret.Configured && _options.PeerUrl is { } peerUrl && string.Equals(Topology.Member(_options.NodeId)?.PeerUrl, peerUrl, StringComparison.OrdinalIgnoreCase));

    /// <summary>This node is leaving the cluster, or already out of its member list.</summary>
    public bool Departing => Topology.Member(_options.NodeId) is null or { Leaving: true };

    /// <summary>Where <paramref name="shard"/>'s replicas belong under the current member list.</summary>
    public ShardReplicas PlacementOf(int shard) => _current.Placement[shard];

    /// <summary>Takes a member list applied from shard 0 if it is newer than the one in use.</summary>
    public void Adopt(string document, long version)
    {
        ClusterTopology updated;
        lock (_lock)
        {
            if (version <= _current.Topology.Version)
            {
                return;
            }

            updated = _current.Topology.WithMembers(ClusterMembership.Parse(document), version);
            _current = new Current(updated, updated.Placement());
            try
            {
                _peers.UpdateMembers(updated.Members);
            }
            catch (Exception e) when (e is InvalidOperationException or UriFormatException or ArgumentException)
            {
                // A member this node cannot dial must not stop shard 0 here (it would on every node).
                _logger.LogError(e, "Could not open peer links for the new member list");
            }

            try
            {
                TopologyFile.Save(Path.Combine(_dataDir, TopologyFile.FileName), updated);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Shard 0 holds the list durably; the file is for the next start, which also reads shard 0.
                _logger.LogError(e, "Could not save the member list to {File}", TopologyFile.FileName);
            }
        }

        _logger.LogInformation(
            "Cluster members are now {Members} (version {Version})",
            string.Join(", ", updated.Members.Select(m => $"{m.Id}@{m.Dc}{(m.Leaving ? " (leaving)" : string.Empty)}")),
            version);
        if (updated.Member(_options.NodeId) is null)
        {
            _logger.LogWarning("This node (id {Node}) was removed from the cluster; it holds no shard any more and can be stopped", _options.NodeId);
        }
    }

    private sealed record Current(ClusterTopology Topology, IReadOnlyList<ShardReplicas> Placement);
}
