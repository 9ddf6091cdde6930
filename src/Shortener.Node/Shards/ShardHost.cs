using System.Globalization;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Observability;
using Shortener.Node.Peers;
using Shortener.Node.Peers.Protocol;
using Shortener.Storage.Links;
using Shortener.Storage.Raft;

namespace Shortener.Node.Shards;

/// <summary>
/// Every shard replica on this node (multi-Raft), the thread that runs their rounds, and one timer
/// that ticks them all: an idle shard costs one tick and, when it leads, one heartbeat per follower
/// per tick, which the peer transport batches with every other shard's for the same peer. Shard 0's
/// log also carries the cluster documents (the member list, the API keys): each applied version goes to
/// its <see cref="IClusterDocumentReader"/>.
/// </summary>
public sealed class ShardHost : IAsyncDisposable
{
    private readonly ShardReplica[] _replicas;
    private readonly MemberList _members;
    private readonly IReadOnlyList<IClusterDocumentReader> _readers;
    private readonly NetworkFaults _faults;
    private readonly ILogger<ShardHost> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ticker;
    private long _ticks;
    private readonly string[] _ageHeaders;
    private readonly FileStream _lock;
    private readonly RaftLogEngine _log;
    private readonly SqliteLinkStore _links;
    private readonly DriverThread _thread = new();
    private readonly SnapshotWorker _snapshots;

    public ShardHost(
        MemberList members,
        ClusterOptions options,
        string dataDir,
        IPeerTransport peers,
        NetworkFaults faults,
        Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> applied,
        Action restored,
        ShortenerMetrics metrics,
        ILoggerFactory loggers,
        NodeJournal? journal = null,
        IReadOnlyList<IClusterDocumentReader>? documentReaders = null)
    {
        var topology = members.Topology;
        _members = members;
        _readers = [members, .. documentReaders ?? []];
        _faults = faults;
        Options = options;
        Router = topology.CreateRouter();
        _logger = loggers.CreateLogger<ShardHost>();
        _lock = LockDataDir(dataDir);
        try
        {
            _log = RaftLogEngine.Open(Path.Combine(dataDir, "raft-log"));

            // Every shard's rows, their applies held for one commit per bound (CommitBound);
            // synchronous=NORMAL, as the Raft log is the durable record.
            _links = SqliteLinkStore.Open(Path.Combine(dataDir, "shards.db"), synchronousFull: false);
            _links.HoldCommits = true;
            _links.CheckpointInBackground(TimeSpan.FromSeconds(1));
            _links.CommitRequested = () => _thread.Signal.Set();
        }
        catch
        {
            _log?.Dispose();
            _lock.Dispose();
            throw;
        }

        var proposer = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        _snapshots = new SnapshotWorker(_logger);
        _replicas = new ShardReplica[topology.Shards];
        _ageHeaders = new string[topology.Shards];

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
                    Proposer = proposer,
                    Transport = new ShardTransport(shard, peers),
                    TickMs = options.TickMs,
                    ElectionTicks = options.ElectionTicks,
                    HeartbeatTicks = options.HeartbeatTicks,
                    RequestTimeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs),
                    ReproposeInterval = TimeSpan.FromMilliseconds(options.ReproposeMs),
                    SnapshotEntries = options.SnapshotEntries,
                    SnapshotKeepEntries = options.SnapshotKeepEntries,
                    SnapshotWork = _snapshots.Run,
                    Journal = journal,
                    Applied = (envelopes, results) =>
                    {
                        if (index == 0)
                        {
                            OnDocumentsApplied(envelopes, results);
                        }

                        applied(envelopes, results);
                    },
                    Restored = state =>
                    {
                        if (index == 0)
                        {
                            AdoptStoredDocuments(state.Links);
                        }

                        restored();
                    },
                    Paused = () => faults.Paused,
                    Target = () => TargetOf(index),
                    MembershipStep = metrics.MembershipStep,
                };
                var first = bootstrap is null ? null : new ConfState(bootstrap[shard].Voters, bootstrap[shard].Learners, [], [], false);
                _replicas[shard] = ShardReplica.Open(Path.Combine(dataDir, "shards", shard.ToString("D3", CultureInfo.InvariantCulture)), _log, _links, settings, first, _thread.Signal, replicaLogger);
                _ageHeaders[shard] = "0";
            }
        }
        catch
        {
            foreach (var replica in _replicas.Where(r => r is not null))
            {
                replica.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            _snapshots.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _links.Dispose();
            _log.Dispose();
            _lock.Dispose();
            throw;
        }

        // Shard 0 may know a newer member list than the cluster.json this node started from.
        AdoptStoredDocuments(_replicas[0].Links);
        peers.PeerUnreachable += ReportUnreachable;
        _thread.Start(_replicas, _links, new CommitBound(TimeSpan.FromMilliseconds(options.DatabaseCommitIntervalMs), options.DatabaseCommitApplies));
        metrics.ObserveShards(this, members);
        _ticker = Task.Run(TickAsync);
        _logger.LogInformation(
            "Node {Node} ({Dc}) hosts {Shards} shards of a {Members}-node cluster (member list version {Version})",
            options.NodeId,
            options.Dc,
            topology.Shards,
            members.Topology.Members.Count,
            members.Topology.Version);
    }

    public ClusterOptions Options { get; }

    /// <summary>
    /// Ticks this node's Raft time has counted since it started. A process that was stopped counts
    /// none for the time it was stopped (the timer fires once when it wakes), like the Raft timers
    /// themselves: lease holders measure their leases in it, and fencing covers the difference.
    /// </summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    public ShardRouter Router { get; }

    public IReadOnlyList<ShardReplica> Replicas => _replicas;

    /// <summary>The node's Raft log, which every shard's replica appends to.</summary>
    public RaftLogEngine Log => _log;

    /// <summary>The node's link database: every shard's rows, committed once per driver round.</summary>
    public SqliteLinkStore Database => _links;

    public ShardReplica For(string code) => _replicas[Router.ShardOf(code)];

    /// <summary>The applied-age header value of <paramref name="shard"/> in milliseconds, refreshed every tick.</summary>
    public string AppliedAgeHeader(int shard) => _ageHeaders[shard];

    /// <summary>Hands an inbound batch's messages to their shards.</summary>
    public void Deliver(RaftBatch batch)
    {
        if (_faults.DropInbound(batch.From))
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

    /// <summary>The node's snapshot worker (its queue, for /metrics).</summary>
    public SnapshotWorker Snapshots => _snapshots;

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

        await _thread.DisposeAsync().ConfigureAwait(false);
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync().ConfigureAwait(false);
        }

        // After the replicas: closing, each waits for its snapshot file in the worker's queue.
        await _snapshots.DisposeAsync().ConfigureAwait(false);
        _links.Dispose();
        _log.Dispose();
        _stop.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Two processes on one data dir would interleave their log writes: the second is refused.</summary>
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

        var target = _members.PlacementOf(shard);
        return target.Voters.Count == 0 ? null : target;
    }

    private void OnDocumentsApplied(IReadOnlyList<LinkCommandEnvelope> envelopes, IReadOnlyList<BatchItemResult> results)
    {
        for (var i = 0; i < envelopes.Count; i++)
        {
            var (name, document) = envelopes[i].Command switch
            {
                SetClusterMembers m => (ClusterDocumentNames.Members, m.Document),
                SetClusterDocument d => (d.Name, d.Document),
                _ => (null, null),
            };
            if (name is not null && results[i].Result is { Outcome: CommandOutcome.Ok } result)
            {
                foreach (var reader in _readers.Where(r => r.Name == name))
                {
                    reader.Adopt(document!, result.DocumentVersion);
                }
            }
        }
    }

    /// <summary>Gives every reader the document shard 0 holds (at start, or after a snapshot replaced shard 0's state); each takes it if newer.</summary>
    private void AdoptStoredDocuments(ShardLinks shardZero)
    {
        foreach (var reader in _readers)
        {
            if (shardZero.ClusterDocument(reader.Name) is { } stored)
            {
                reader.Adopt(stored.Document, stored.Version);
            }
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
            Interlocked.Increment(ref _ticks);
            for (var shard = 0; shard < _replicas.Length; shard++)
            {
                _replicas[shard].Tick();
                _ageHeaders[shard] = _replicas[shard].AppliedAgeMs.ToString(CultureInfo.InvariantCulture);
            }
        }
    }
}
