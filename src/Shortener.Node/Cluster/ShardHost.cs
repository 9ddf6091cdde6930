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
    private long _proposalIds;

    public ShardHost(
        ClusterTopology topology,
        ClusterOptions options,
        string dataDir,
        string secret,
        NetworkFaults faults,
        Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> applied,
        Action restored,
        ShortenerMetrics metrics,
        ILoggerFactory loggers)
    {
        Topology = topology;
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
        var placement = topology.Placement();
        var replicaLogger = loggers.CreateLogger<ShardReplica>();
        try
        {
            for (var shard = 0; shard < topology.Shards; shard++)
            {
                var replicas = placement[shard];
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
                    Applied = (_, envelopes, results) => applied(envelopes, results),
                    Restored = _ => restored(),
                    Paused = () => faults.Paused,
                };
                var bootstrap = new ConfState(replicas.Voters, replicas.Learners, [], [], false);
                _replicas[shard] = ShardReplica.Open(Path.Combine(dataDir, "shards", shard.ToString("D3", CultureInfo.InvariantCulture)), settings, bootstrap, replicaLogger);
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

        metrics.ObserveShards(this);
        _ticker = Task.Run(TickAsync);
        _logger.LogInformation(
            "Node {Node} ({Dc}) hosts {Shards} shards of a {Members}-node cluster; voter in [{Voting}]",
            options.NodeId,
            options.Dc,
            topology.Shards,
            topology.Members.Count,
            string.Join(',', placement.Where(p => p.Voters.Contains(options.NodeId)).Select(p => p.Shard)));
    }

    public ClusterTopology Topology { get; }

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
}
