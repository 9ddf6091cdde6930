using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Node.Cluster.Protocol;
using Shortener.Node.Observability;
using Shortener.Storage.Links;

namespace Shortener.Node.Cluster;

/// <summary>
/// Every shard replica on this node (multi-Raft), the transport between them and their peers, and
/// one timer that ticks them all: an idle shard costs one tick and, when it leads, one heartbeat per
/// follower per tick, which the transport batches with every other shard's for the same peer.
/// </summary>
public sealed class ShardHost : IAsyncDisposable
{
    private readonly ShardReplica[] _replicas;
    private readonly ILogger<ShardHost> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ticker;
    private readonly string[] _ageHeaders;
    private readonly FileStream _lock;
    private readonly string _dataDir;
    private readonly Lock _membersLock = new();
    // The topology and its placement, replaced together so a reader never sees one without the other.
    private volatile Membership _members;
    private long _proposalIds;
    private readonly ShardDriver? _driver;

    public ShardHost(
        ClusterTopology topology,
        ClusterOptions options,
        string dataDir,
        string secret,
        NetworkFaults faults,
        Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> applied,
        Action restored,
        ShortenerMetrics metrics,
        ILoggerFactory loggers,
        bool secretConfigured = true)
    {
        _members = new Membership(topology, topology.Placement());
        _dataDir = dataDir;
        SecretConfigured = secretConfigured;
        Options = options;
        Router = topology.CreateRouter();
        Faults = faults;
        SecretHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        _logger = loggers.CreateLogger<ShardHost>();
        _lock = LockDataDir(dataDir);
        Transport = new PeerTransport(topology, options.NodeId, secret, options.PeerQueueCapacity, faults, metrics, ReportUnreachable, loggers.CreateLogger<PeerTransport>());
        Proposer = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _replicas = new ShardReplica[topology.Shards];
        _ageHeaders = new string[topology.Shards];
        _driver = options.SharedDriver ? new ShardDriver() : null;

        // Founders start every shard from the founders' placement; a node added later starts empty.
        var bootstrap = topology.IsFounder(options.NodeId) ? topology.BootstrapPlacement() : null;
        var replicaLogger = loggers.CreateLogger<ShardReplica>();
        try
        {
            for (var shard = 0; shard < topology.Shards; shard++)
            {
                var index = shard;
                var settings = new ShardReplicaSettings
                {
                    Shard = shard,
                    NodeId = options.NodeId,
                    Proposer = Proposer,
                    NextProposalId = () => (ulong)Interlocked.Increment(ref _proposalIds),
                    ElectionTicks = options.ElectionTicks,
                    HeartbeatTicks = options.HeartbeatTicks,
                    RequestTimeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs),
                    SnapshotEntries = options.SnapshotEntries,
                    SnapshotKeepEntries = options.SnapshotKeepEntries,
                    Send = Transport.Send,
                    Applied = (s, envelopes, results) =>
                    {
                        if (s == 0)
                        {
                            OnMembersApplied(envelopes, results);
                        }

                        applied(envelopes, results);
                    },
                    Restored = s =>
                    {
                        if (s == 0)
                        {
                            AdoptStoredMembers();
                        }

                        restored();
                    },
                    Paused = () => faults.Paused,
                    Target = () => TargetOf(index),
                    MembershipStep = metrics.MembershipStep,
                    SharedDriver = _driver?.Signal,
                };
                var first = bootstrap is null ? null : new ConfState(bootstrap[shard].Voters, bootstrap[shard].Learners, [], [], false);
                _replicas[shard] = ShardReplica.Open(Path.Combine(dataDir, "shards", shard.ToString("D3", CultureInfo.InvariantCulture)), settings, first, replicaLogger);
                _ageHeaders[shard] = "0";
            }
        }
        catch
        {
            foreach (var replica in _replicas.Where(r => r is not null))
            {
                replica.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            Transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _lock.Dispose();
            throw;
        }

        // Shard 0 may know a newer member list than the cluster.json this node started from.
        AdoptStoredMembers();
        _driver?.Start(_replicas);

        metrics.ObserveShards(this);
        _ticker = Task.Run(TickAsync);
        _logger.LogInformation(
            "Node {Node} ({Dc}) hosts {Shards} shards of a {Members}-node cluster (member list version {Version})",
            options.NodeId,
            options.Dc,
            topology.Shards,
            Topology.Members.Count,
            Topology.Version);
    }

    /// <summary>The cluster as this node knows it: the member list follows shard 0's log.</summary>
    public ClusterTopology Topology => _members.Topology;

    /// <summary>False when the node runs alone with a random secret: nobody can join it.</summary>
    public bool SecretConfigured { get; }

    /// <summary>
    /// Whether nodes can be added: a cluster of several can always grow; a node alone only when it
    /// has a secret and listens for peers at the address its topology gives.
    /// </summary>
    public bool CanGrow =>
        Topology.Members.Count > 1
        || (SecretConfigured && Options.PeerUrl is { } peerUrl && string.Equals(Topology.Member(Options.NodeId)?.PeerUrl, peerUrl, StringComparison.OrdinalIgnoreCase));

    /// <summary>This node is leaving the cluster, or already out of its member list.</summary>
    public bool Departing => Topology.Member(Options.NodeId) is null or { Leaving: true };

    public ClusterOptions Options { get; }

    public ShardRouter Router { get; }

    public NetworkFaults Faults { get; }

    public PeerTransport Transport { get; }

    public ulong Proposer { get; }

    internal byte[] SecretHash { get; }

    public IReadOnlyList<ShardReplica> Replicas => _replicas;

    public ShardReplica For(string code) => _replicas[Router.ShardOf(code)];

    /// <summary>The applied-age header value of <paramref name="shard"/> in milliseconds, refreshed every tick.</summary>
    public string AppliedAgeHeader(int shard) => _ageHeaders[shard];

    /// <summary>
    /// Changes the member list through shard 0: reads the current list linearizably, lets
    /// <paramref name="change"/> compute the new one (it throws to refuse), and proposes it against
    /// the version it read; a concurrent change makes it start over. Returns the topology once this
    /// node applied the change.
    /// </summary>
    public async Task<ClusterTopology> ChangeMembersAsync(Func<ClusterTopology, ClusterMembership?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await _replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
            var current = Topology;
            if (change(current) is not { } membership)
            {
                return current;
            }

            var command = new SetClusterMembers(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), current.Version, membership.Serialize());
            var result = await _replicas[0].ProposeAsync(new LinkCommandEnvelope(command), cancellationToken).ConfigureAwait(false);
            if (result.Outcome == CommandOutcome.Ok)
            {
                return Topology;
            }

            if (attempt == 5)
            {
                throw new MembershipRefusedException(MembershipRefusal.Conflict, $"the member list kept changing underneath (now at version {result.MembersVersion}); try again");
            }
        }
    }

    /// <summary>The shards whose configuration still names <paramref name="id"/>, each checked after a linearizable read.</summary>
    public async Task<IReadOnlyList<int>> ShardsListingAsync(ulong id, CancellationToken cancellationToken)
    {
        var listing = new List<int>();
        foreach (var replica in _replicas)
        {
            await replica.WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
            if (replica.Status.Config.Contains(id))
            {
                listing.Add(replica.Shard);
            }
        }

        return listing;
    }

    /// <summary>Hands an inbound batch's messages to their shards.</summary>
    public void Deliver(RaftBatch batch)
    {
        if (Faults.DropInbound(batch.From))
        {
            return;
        }

        foreach (var wire in batch.Messages)
        {
            if (wire.Shard >= _replicas.Length || wire.To != Options.NodeId || RaftMessageCodec.Decode(wire) is not { } message)
            {
                _logger.LogWarning("Dropped a message from peer {Peer} for shard {Shard} and node {To}: not for a shard here", batch.From, wire.Shard, wire.To);
                continue;
            }

            _replicas[wire.Shard].Deliver(message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _ticker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_driver is not null)
        {
            await _driver.DisposeAsync().ConfigureAwait(false);
        }
        await Transport.DisposeAsync().ConfigureAwait(false);
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Two processes on one data dir would interleave their WAL writes: the second is refused.</summary>
    private static FileStream LockDataDir(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, "LOCK");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new Storage.StorageException($"another process is using the data dir {dataDir} ({e.Message}); stop it first", e);
        }
    }

    /// <summary>
    /// Where <paramref name="shard"/> should be, for its leader's reconciler; null while this node's
    /// shard 0 is behind (a stale member list could undo a newer one's changes) or nobody is placed.
    /// </summary>
    private ShardReplicas? TargetOf(int shard)
    {
        var zero = _replicas[0];
        if (zero is null || zero.AppliedAgeMs > 4L * Options.ElectionTicks * Options.TickMs)
        {
            return null;
        }

        var target = _members.Placement[shard];
        return target.Voters.Count == 0 ? null : target;
    }

    private void OnMembersApplied(IReadOnlyList<LinkCommandEnvelope> envelopes, IReadOnlyList<BatchItemResult> results)
    {
        for (var i = 0; i < envelopes.Count; i++)
        {
            if (envelopes[i].Command is SetClusterMembers set && results[i].Result is { Outcome: CommandOutcome.Ok } result)
            {
                Adopt(ClusterMembership.Parse(set.Document), result.MembersVersion);
            }
        }
    }

    private void AdoptStoredMembers()
    {
        if (_replicas[0]?.Store.ClusterMembers() is { } stored)
        {
            Adopt(ClusterMembership.Parse(stored.Document), stored.Version);
        }
    }

    /// <summary>Takes a member list from shard 0 if it is newer than the one in use: peers, placement, and the cluster.json kept for restarts.</summary>
    private void Adopt(ClusterMembership membership, long version)
    {
        ClusterTopology updated;
        lock (_membersLock)
        {
            if (version <= _members.Topology.Version)
            {
                return;
            }

            updated = _members.Topology.WithMembers(membership, version);
            _members = new Membership(updated, updated.Placement());
            try
            {
                Transport.UpdateMembers(updated.Members);
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
        if (updated.Member(Options.NodeId) is null)
        {
            _logger.LogWarning("This node (id {Node}) was removed from the cluster; it holds no shard any more and can be stopped", Options.NodeId);
        }
    }

    private void ReportUnreachable(ulong peer)
    {
        foreach (var replica in _replicas)
        {
            replica.ReportUnreachable(peer);
        }
    }

    private async Task TickAsync()
    {
        // Raft time is wall time whatever TimeProvider the API runs on: elections must happen.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Options.TickMs));
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            for (var shard = 0; shard < _replicas.Length; shard++)
            {
                _replicas[shard].Tick();
                _ageHeaders[shard] = _replicas[shard].AppliedAgeMs.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    private sealed record Membership(ClusterTopology Topology, IReadOnlyList<ShardReplicas> Placement);
}
