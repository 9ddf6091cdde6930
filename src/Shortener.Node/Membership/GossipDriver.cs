using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core;
using Shortener.Core.Cluster;
using Shortener.Core.Membership;
using Shortener.Node.Faults;
using Shortener.Node.Peers;
using Shortener.Node.Peers.Protocol;
using Shortener.Node.Observability;

namespace Shortener.Node.Membership;

/// <summary>
/// Runs this node's <see cref="SwimNode"/>: ticks it on a timer, steps it with the packets peers
/// send (<see cref="Receive"/>), and sends what it says through the peer transport. It starts
/// knowing every member of the cluster's member list (from Raft shard 0) and follows changes to
/// it; gossip adds who is up. One lock serialises the state machine; sends happen outside it.
/// Status changes are logged and counted, and <see cref="View"/> feeds the admin view and metrics.
/// </summary>
public sealed class GossipDriver : IHostedService, IAsyncDisposable
{
    private readonly MemberList _members;
    private readonly IPeerTransport _peers;
    private readonly NetworkFaults _faults;
    private readonly ShortenerMetrics _metrics;
    private readonly ILogger<GossipDriver> _logger;
    private readonly Lock _lock = new();
    private readonly SwimNode _node;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _membersVersion = -1;
    private int _stopped;

    public GossipDriver(MemberList members, IPeerTransport peers, NetworkFaults faults, GossipSettings settings, ShortenerMetrics metrics, ILogger<GossipDriver> logger)
    {
        _members = members;
        _peers = peers;
        _faults = faults;
        _metrics = metrics;
        _logger = logger;
        Settings = settings;
        var self = members.Topology.Member(members.Self)!;
        _node = new SwimNode(Describe(self), settings, new SeededRandom(BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))));
    }

    public GossipSettings Settings { get; }

    public ulong NodeId => _node.Id;

    public ulong Incarnation
    {
        get
        {
            lock (_lock)
            {
                return _node.Self.Incarnation;
            }
        }
    }

    /// <summary>Whether gossip runs here: only where peers can reach this node (the peer server runs).</summary>
    public bool Enabled => _members.CanGrow;

    /// <summary>What gossip says of each member of the cluster's list (a node removed from the list is not shown, though gossip still tracks it).</summary>
    public IReadOnlyList<GossipMemberView> View()
    {
        var topology = _members.Topology;
        lock (_lock)
        {
            return _node.Members
                .Where(m => topology.Member(m.Id) is not null)
                .OrderBy(m => m.Id)
                .Select(m => new GossipMemberView(m.Id, m.Dc, m.Status.ToString().ToLowerInvariant(), m.Incarnation, m.Id == _node.Id ? 0 : Math.Round(_node.Phi(m.Id), 2)))
                .ToList();
        }
    }

    /// <summary>
    /// The members to send work to now: up by gossip (alive or suspect) with phi below
    /// <paramref name="phiThreshold"/> (<see cref="SwimNode.IsReachable"/>), this node included;
    /// only this node where gossip does not run.
    /// </summary>
    public IReadOnlySet<ulong> ReachableMembers(double phiThreshold)
    {
        if (!Enabled)
        {
            return new HashSet<ulong> { _node.Id };
        }

        lock (_lock)
        {
            return _node.Members.Where(m => _node.IsReachable(m.Id, phiThreshold)).Select(m => m.Id).ToHashSet();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        FollowMembers();
        _metrics.ObserveGossip(this);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopped by the host, then again when the container disposes it: the second time is a no-op.
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>A packet from a peer (the peer service calls this).</summary>
    public void Receive(GossipPacket packet)
    {
        // A paused node (fault injection) answers nothing, like a stopped process.
        if (_faults.DropInbound(packet.From) || _faults.Paused)
        {
            return;
        }

        if (GossipCodec.Decode(packet) is not { } message)
        {
            _logger.LogWarning("Dropped a gossip packet from {Peer} this version cannot read (type {Type})", packet.From, packet.Type);
            return;
        }

        _metrics.GossipReceived(message.Type);
        IReadOnlyList<GossipMessage> outgoing;
        lock (_lock)
        {
            _node.Step(message);
            outgoing = _node.TakeMessages();
            Report(_node.TakeEvents());
        }

        Send(outgoing);
    }

    private async Task RunAsync()
    {
        // Wall time, as the Raft ticker: protocol timing must not stop under a test's fake clock.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Settings.TickMs));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                // A paused node (fault injection) neither probes nor answers, like a stopped process.
                if (_faults.Paused)
                {
                    continue;
                }

                FollowMembers();
                IReadOnlyList<GossipMessage> outgoing;
                lock (_lock)
                {
                    _node.Tick();
                    outgoing = _node.TakeMessages();
                    Report(_node.TakeEvents());
                }

                Send(outgoing);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Gossip stopped; this node's view of who is up is frozen until it restarts");
        }
    }

    /// <summary>New members of the cluster's list are taken as alive and asked for their lists.</summary>
    private void FollowMembers()
    {
        var topology = _members.Topology;
        if (topology.Version == _membersVersion)
        {
            return;
        }

        _membersVersion = topology.Version;
        IReadOnlyList<GossipMessage> outgoing;
        lock (_lock)
        {
            var unknown = topology.Members.Where(m => _node.Member(m.Id) is null).Select(Describe).ToList();
            if (unknown.Count == 0)
            {
                return;
            }

            _node.Join(unknown);
            outgoing = _node.TakeMessages();
            Report(_node.TakeEvents());
        }

        Send(outgoing);
    }

    private void Send(IReadOnlyList<GossipMessage> messages)
    {
        foreach (var message in messages)
        {
            _peers.SendGossip(message.To, GossipCodec.Encode(message));
        }
    }

    private void Report(IReadOnlyList<MemberEvent> events)
    {
        foreach (var e in events)
        {
            _metrics.GossipStatusChange(e.Member.Status);
            if (e.Previous is null)
            {
                continue;
            }

            var level = e.Member.Status is MemberStatus.Dead or MemberStatus.Suspect ? LogLevel.Warning : LogLevel.Information;
            _logger.Log(level, "Gossip: node {Node} ({Dc}) is {Status} (was {Previous}), incarnation {Incarnation}", e.Member.Id, e.Member.Dc, e.Member.Status, e.Previous, e.Member.Incarnation);
        }
    }

    private static GossipMember Describe(ClusterMember member) => new(member.Id, member.Dc, member.PeerUrl, member.HttpUrl, [], 0, MemberStatus.Alive);
}
