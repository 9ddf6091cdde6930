using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Core.Membership;
using Shortener.Core.Raft;
using Shortener.Node.Clocks;
using Shortener.Node.Faults;
using Shortener.Node.Observability;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Peers;

/// <summary>
/// The peer transport over gRPC. Raft traffic: per peer, a bounded queue and one long-lived stream
/// that carries whatever is queued as one batch (so the heartbeats of every shard in a tick travel
/// together). A full queue drops new messages, never blocks the sender: Raft resends what matters,
/// and a slow or dead peer holds up nobody but itself. Gossip and click messages are unary calls,
/// fire and forget, with a bound on how many are in flight per peer.
/// </summary>
public sealed class GrpcPeerTransport : IPeerTransport, IAsyncDisposable
{
    public const string SecretHeader = "x-shortener-cluster-secret";
    /// <summary>
    /// The largest message either side sends or takes: a Raft batch stops adding messages at 4 MiB
    /// (<see cref="MaxBatchBytes"/>) and one message carries at most 1 MiB of entries or one
    /// snapshot chunk, so 16 MiB leaves room; a bigger one is refused before it is buffered.
    /// </summary>
    public const int MaxMessageBytes = 16 << 20;
    private const int MaxBatchMessages = 1024;
    private const int MaxBatchBytes = 4 << 20;
    private const int MaxGossipInFlight = 16;
    private const int MaxClickInFlight = 64;
    private static readonly TimeSpan GossipTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ClickTimeout = TimeSpan.FromSeconds(5);

    private readonly ulong _self;
    private readonly string _secret;
    private readonly PeerSecurity _security;
    private readonly int _queueCapacity;
    private readonly NetworkFaults _faults;
    private readonly NodeClock _clock;
    private readonly ShortenerMetrics _metrics;
    private readonly ILogger<GrpcPeerTransport> _logger;
    private readonly Lock _update = new();

    // Replaced whole on a membership change, so senders read it without a lock.
    private volatile Dictionary<ulong, PeerLink> _links = [];
    private bool _disposed;

    public GrpcPeerTransport(ClusterTopology topology, ulong self, ClusterSecret secret, PeerSecurity security, int queueCapacity, NetworkFaults faults, NodeClock clock, ShortenerMetrics metrics, ILogger<GrpcPeerTransport> logger)
    {
        _self = self;
        _secret = secret.Value;
        _security = security;
        _queueCapacity = queueCapacity;
        _faults = faults;
        _clock = clock;
        _metrics = metrics;
        _logger = logger;
        UpdateMembers(topology.Members);
    }

    public event Action<ulong>? PeerUnreachable;

    /// <summary>
    /// Follows a membership change: links to new members are opened, links to members that left are
    /// closed. (A member's addresses do not change; a node that moves rejoins under a new id.)
    /// </summary>
    public void UpdateMembers(IReadOnlyList<ClusterMember> members)
    {
        List<PeerLink> closed;
        lock (_update)
        {
            if (_disposed)
            {
                return;
            }

            var links = new Dictionary<ulong, PeerLink>(_links);
            foreach (var member in members.Where(m => m.Id != _self && !links.ContainsKey(m.Id)))
            {
                links[member.Id] = new PeerLink(member, _self, _secret, _security, _queueCapacity, _faults, _clock, _metrics, id => PeerUnreachable?.Invoke(id), _logger);
            }

            closed = links.Values.Where(l => members.All(m => m.Id != l.Id)).ToList();
            closed.ForEach(l => links.Remove(l.Id));
            _links = links;
        }

        foreach (var link in closed)
        {
            // Closed in the background (a link waits for its stream to end); a failure is logged, not lost.
            _ = link.DisposeAsync().AsTask().ContinueWith(
                t => _logger.LogWarning(t.Exception, "Closing the link to a departed member failed"),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }
    }

    public void SendRaft(int shard, RaftMessage message)
    {
        if (_links.TryGetValue(message.To, out var link))
        {
            link.Enqueue(shard, message);
        }
    }

    /// <summary>In the background; dropped when the peer is unknown, cut off by a fault, or has too many packets in flight.</summary>
    public void SendGossip(ulong peer, GossipPacket packet)
    {
        if (_links.TryGetValue(peer, out var link))
        {
            packet.Hlc = _clock.Stamp();
            link.SendGossip(packet);
        }
        else
        {
            _metrics.GossipDropped(peer, "not-a-member");
        }
    }

    /// <summary>In the background. A message that cannot go (an unknown peer, a fault, too many in flight, a failed call) is dropped and counted: the click store retries, hands off and repairs what is lost.</summary>
    public void SendClick(ulong peer, ClickPacket packet)
    {
        if (_links.TryGetValue(peer, out var link))
        {
            packet.Hlc = _clock.Stamp();
            link.SendClick(packet);
        }
        else
        {
            _metrics.ClickMessageDropped(peer, "not-a-member");
        }
    }

    /// <summary>A unary call, with the secret and the current trace context.</summary>
    public async Task<FaultReply> InjectFaultAsync(ulong peer, FaultRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_links.TryGetValue(peer, out var link))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"node {peer} is no longer a member"));
        }

        return await link.Client.InjectFaultAsync(request, link.Headers(), DateTime.UtcNow + timeout, cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyCollection<ulong> Peers => _links.Keys;

    public async ValueTask DisposeAsync()
    {
        Dictionary<ulong, PeerLink> links;
        lock (_update)
        {
            // A membership change racing the shutdown opens nothing new after this.
            links = _links;
            _links = [];
            _disposed = true;
        }

        foreach (var link in links.Values)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class PeerLink : IAsyncDisposable
    {
        private readonly ClusterMember _peer;
        private readonly ulong _self;
        private readonly string _secret;
        private readonly NetworkFaults _faults;
        private readonly NodeClock _clock;
        private readonly ShortenerMetrics _metrics;
        private readonly Action<ulong> _unreachable;
        private readonly ILogger _logger;
        private readonly GrpcChannel _channel;
        private readonly Channel<ShardMessage> _queue;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly InFlightLimit _gossipInFlight = new(MaxGossipInFlight);
        private readonly InFlightLimit _clickInFlight = new(MaxClickInFlight);

        public PeerLink(ClusterMember peer, ulong self, string secret, PeerSecurity security, int capacity, NetworkFaults faults, NodeClock clock, ShortenerMetrics metrics, Action<ulong> unreachable, ILogger logger)
        {
            _peer = peer;
            _self = self;
            _secret = secret;
            _faults = faults;
            _clock = clock;
            _metrics = metrics;
            _unreachable = unreachable;
            _logger = logger;
            _queue = Channel.CreateBounded<ShardMessage>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
                _ => _metrics.PeerMessageDropped(_peer.Id, "queue-full"));
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                KeepAlivePingDelay = TimeSpan.FromSeconds(2),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(3),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            };
            security.ConfigureClient(handler);
            _channel = GrpcChannel.ForAddress(peer.PeerUrl, new GrpcChannelOptions
            {
                HttpHandler = handler,
                MaxSendMessageSize = MaxMessageBytes,
                MaxReceiveMessageSize = MaxMessageBytes,
            });
            Client = new Peer.PeerClient(_channel);
            _loop = Task.Run(RunAsync);
        }

        public Peer.PeerClient Client { get; }

        public ulong Id => _peer.Id;

        public void Enqueue(int shard, RaftMessage message)
        {
            if (_faults.DropOutbound(message.To))
            {
                _metrics.PeerMessageDropped(_peer.Id, "fault");
                return;
            }

            _queue.Writer.TryWrite(RaftMessageCodec.Encode(shard, message));
        }

        public void SendGossip(GossipPacket packet) =>
            SendUnary(
                _gossipInFlight,
                headers => Client.GossipAsync(packet, headers, DateTime.UtcNow + GossipTimeout, _stop.Token).ResponseAsync,
                () => _metrics.GossipSent((GossipMessageType)packet.Type),
                reason => _metrics.GossipDropped(_peer.Id, reason),
                "Gossip");

        public void SendClick(ClickPacket packet) =>
            SendUnary(
                _clickInFlight,
                headers => Client.ClickAsync(packet, headers, DateTime.UtcNow + ClickTimeout, _stop.Token).ResponseAsync,
                () => _metrics.ClickMessageSent(_peer.Id, packet.Body.Length),
                reason => _metrics.ClickMessageDropped(_peer.Id, reason),
                "Click message");

        /// <summary>
        /// A fire-and-forget unary call: dropped (and counted by reason) when a fault cuts the peer
        /// off or too many are in flight, and when the call fails; the protocols above retry.
        /// </summary>
        private void SendUnary(InFlightLimit limit, Func<Metadata, Task> call, Action sent, Action<string> dropped, string what)
        {
            if (_faults.DropOutbound(_peer.Id))
            {
                dropped("fault");
                return;
            }

            if (!limit.TryEnter())
            {
                dropped("busy");
                return;
            }

            _ = SendUnaryAsync(limit, call, sent, dropped, what, Headers());
        }

        private async Task SendUnaryAsync(InFlightLimit limit, Func<Metadata, Task> call, Action sent, Action<string> dropped, string what, Metadata headers)
        {
            try
            {
                var delay = _faults.DelayTo(_peer.Id);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                }

                await call(headers).ConfigureAwait(false);
                sent();
            }
            catch (Exception e)
            {
                dropped(_stop.IsCancellationRequested ? "stopping" : "unreachable");
                _logger.LogDebug("{What} to peer {Peer} failed: {Error}", what, _peer.Id, e.Message);
            }
            finally
            {
                limit.Exit();
            }
        }

        public Metadata Headers()
        {
            var headers = new Metadata { { SecretHeader, _secret } };
            if (Activity.Current is { } activity)
            {
                headers.Add("traceparent", activity.Id!);
            }

            return headers;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            _queue.Writer.TryComplete();
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            _channel.Dispose();
            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            var failures = 0;
            var reader = _queue.Reader;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    // Wait for traffic before dialling, so an idle link to a dead peer costs nothing.
                    if (!await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                    {
                        return;
                    }

                    using var activity = ShortenerMetrics.ActivitySource.StartActivity("peer.raft-stream");
                    activity?.SetTag("peer.id", _peer.Id);
                    using var call = Client.Raft(Headers(), cancellationToken: _stop.Token);
                    activity?.Dispose();
                    while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                    {
                        var batch = new RaftBatch { From = _self };
                        var bytes = 0;
                        while (batch.Messages.Count < MaxBatchMessages && bytes < MaxBatchBytes && reader.TryRead(out var m))
                        {
                            batch.Messages.Add(m);
                            bytes += m.CalculateSize();
                        }

                        var delay = _faults.DelayTo(_peer.Id);
                        if (delay > TimeSpan.Zero)
                        {
                            await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                        }

                        batch.Hlc = _clock.Stamp();
                        await call.RequestStream.WriteAsync(batch, _stop.Token).ConfigureAwait(false);
                        _metrics.PeerBatchSent(_peer.Id, batch.Messages.Count);
                        if (failures > 0)
                        {
                            _logger.LogInformation("Peer {Peer} ({Url}) reachable again after {Failures} failed attempts", _peer.Id, _peer.PeerUrl, failures);
                            failures = 0;
                        }
                    }
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    failures++;
                    if (failures == 1)
                    {
                        _logger.LogWarning("Peer {Peer} ({Url}) unreachable: {Error}", _peer.Id, _peer.PeerUrl, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message);
                    }

                    // What was queued for a peer we cannot reach is stale by the time it is back.
                    while (reader.TryRead(out _))
                    {
                        _metrics.PeerMessageDropped(_peer.Id, "unreachable");
                    }

                    _unreachable(_peer.Id);
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * failures)), _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>How many calls of one kind may be in flight to a peer at once.</summary>
    private sealed class InFlightLimit(int max)
    {
        private int _count;

        public bool TryEnter()
        {
            if (Interlocked.Increment(ref _count) <= max)
            {
                return true;
            }

            Interlocked.Decrement(ref _count);
            return false;
        }

        public void Exit() => Interlocked.Decrement(ref _count);
    }
}
