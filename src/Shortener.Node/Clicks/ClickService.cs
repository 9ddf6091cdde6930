using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Quorum;
using Shortener.Node.Faults;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Peers.Protocol;
using Shortener.Node.Observability;
using Shortener.Storage.Clicks;

namespace Shortener.Node.Clicks;

/// <summary>
/// This node's part of the click pipeline and store: the redirect path hands it clicks
/// (<see cref="Record"/>), which go into the outbox for the delivery mode; one loop runs the
/// <see cref="ClickNode"/> and <see cref="ClickRelay"/> state machines (ticks, peer messages, stats
/// reads), reads and writes the SQLite replica and the hints on disk, and sends what the machines
/// say over the peer transport. The ring follows the cluster's member list; who is up comes from
/// gossip. A paused node (fault injection) neither ticks nor answers. The loop is a thread of its
/// own, since SQLite and the hint queues block on the disk.
/// </summary>
public sealed class ClickService : IHostedService, IAsyncDisposable
{
    public const string DirectoryName = "clicks";

    /// <summary>Peer messages waiting for the loop at most; more are dropped (the protocol retries, hands off and repairs).</summary>
    private const int MaxInboundQueued = 4_096;

    /// <summary>Work items the loop takes between two looks at its tick and at a stop.</summary>
    private const int MaxWorkPerRound = 256;

    private readonly MemberList _members;
    private readonly IPeerTransport _peers;
    private readonly NetworkFaults _faults;
    private readonly GossipDriver _gossip;
    private readonly double _phiThreshold;
    private readonly ShortenerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ClickService> _logger;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Work> _work = new();
    private readonly SemaphoreSlim _workArrived = new(0);
    private readonly Dictionary<ulong, TaskCompletionSource<ClickCompletion>> _waiting = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Clocks.NodeClock _clock;
    private readonly ClickStore? _store;
    private readonly HintedHandoffQueue? _hints;
    private readonly ClickOutbox? _outbox;
    private readonly InMemoryClickOutbox? _memoryQueue;
    private readonly OutboxFlusher? _flusher;
    private readonly ClickNode? _node;
    private readonly ClickRelay? _relay;
    private readonly ClickPacer _pacer;
    private bool _pressureAvailable = OperatingSystem.IsLinux();
    private readonly long _storedAtOpen;
    private int _inboundQueued;
    private int _outboxErrorLogged;
    private long _damagedRecordsLogged;
    private IReadOnlySet<ulong> _up = new HashSet<ulong>();
    private long _ringVersion = -1;
    private Thread? _loop;
    private int _stopped;

    public ClickService(MemberList members, IPeerTransport peers, NetworkFaults faults, GossipDriver gossip, ClickOptions options, string dataDir, Clocks.NodeClock clock, ShortenerMetrics metrics, TimeProvider time, ILogger<ClickService> logger)
    {
        _clock = clock;
        _members = members;
        _peers = peers;
        _faults = faults;
        _gossip = gossip;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _pacer = new ClickPacer(options.BusyCpuPressure, options.BusyShipIntervalMs);
        _phiThreshold = options.PhiThreshold;
        Options = options;
        if (!options.Enabled)
        {
            return;
        }

        var directory = Path.Combine(dataDir, DirectoryName);
        try
        {
            _store = ClickStore.Open(Path.Combine(directory, "clicks.db"));
            _storedAtOpen = _store.Count;
            _hints = HintedHandoffQueue.Open(Path.Combine(directory, "hints"));
            IClickOutbox source;
            if (options.Mode == DeliveryMode.AtMostOnce)
            {
                source = _memoryQueue = new InMemoryClickOutbox(options.MemoryQueueCapacity);
                Visits = new VisitFeed(members.Self, 0);
            }
            else
            {
                source = _outbox = ClickOutbox.Open(Path.Combine(directory, "outbox"));
                _flusher = new OutboxFlusher(_outbox, options.OutboxSyncMs, logger);
                Visits = new VisitFeed(members.Self, _outbox.Durable);
                if (_outbox.RepairedBytes > 0)
                {
                    logger.LogWarning("The click outbox's last segment had a torn tail ({Bytes} bytes, clicks never confirmed to a client) and was cut back", _outbox.RepairedBytes);
                }
            }

            var settings = new ClickSettings
            {
                ReplicationFactor = options.ReplicationFactor,
                RequestTimeoutMs = options.RequestTimeoutMs,
                AntiEntropyIntervalMs = options.AntiEntropyIntervalMs,
                HintReplayIntervalMs = options.HintReplayIntervalMs,
                HintWindowMs = (long)(options.HintWindowHours * 3_600_000),
                SealAfterMs = (long)(options.SealAfterDays * 86_400_000),
                SealIntervalMs = options.SealIntervalMs,
            };
            var random = new SeededRandom(BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)));
            _node = new ClickNode(members.Self, members.Dc, settings, _store, new WallClockHints(_hints, TimeProvider.System), id => _up.Contains(id), random, MonotonicMs());
            _relay = new ClickRelay(source, _node, options.Mode, ClickOptions.ParseLevel(options.WriteConsistency)!.Value, new ClickRelaySettings { BatchSize = options.RelayBatchSize }, random);
            FollowRing();
        }
        catch
        {
            DisposeStorage();
            throw;
        }
    }

    public ClickOptions Options { get; }

    public bool Enabled => _node is not null;

    public ConsistencyLevel DefaultReadLevel => ClickOptions.ParseLevel(Options.ReadConsistency)!.Value;

    /// <summary>The visits this node serves, as they are recorded (null when clicks are off).</summary>
    public VisitFeed? Visits { get; }

    /// <summary>The figures as of the last tick.</summary>
    public ClickFigures Figures { get; private set; } = ClickFigures.Empty;

    /// <summary>
    /// The redirect path's part: the click goes into the outbox (exactly-once and at-least-once:
    /// written to the file before this returns, so it outlives a crash of the process; fsynced
    /// within <see cref="ClickOptions.OutboxSyncMs"/>) or the in-memory queue (at-most-once). It
    /// never waits for the click store, and never fails the redirect: a click that could not be
    /// recorded is counted and logged.
    /// </summary>
    public void Record(string code, string method, string? userAgent, string? referer, string? country)
    {
        if (_node is null)
        {
            return;
        }

        // The click's time is its stamp's: never behind a click this node has heard of from a peer.
        var hlc = _clock.Now();
        var at = hlc.WallMs;

        var click = new ClickEvent(Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(at)), code, at, hlc, ClickClassifier.Classify(method, userAgent), ClickClassifier.ReferrerHost(referer), ClickClassifier.Country(country))
        {
            Origin = _members.Self,
        };
        var payload = click.Encode();
        _metrics.ClickRecorded(click.Kind);
        if (_memoryQueue is not null)
        {
            if (Visits!.Record(() => _memoryQueue.Append(payload), click) is null)
            {
                _metrics.ClickNotRecorded("queue-full");
            }

            return;
        }

        try
        {
            Visits!.Record(() => _flusher!.Append(payload), click);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _metrics.ClickNotRecorded("outbox-error");
            if (Interlocked.Exchange(ref _outboxErrorLogged, 1) == 0)
            {
                _logger.LogError(e, "A click could not be written to the outbox (a full disk?); redirects go on, their clicks are not counted until the outbox takes them again");
            }

            return;
        }

        Interlocked.Exchange(ref _outboxErrorLogged, 0);
    }

    /// <summary>A link's stats over days <paramref name="fromDay"/> to <paramref name="toDay"/>, read at <paramref name="level"/>.</summary>
    public Task<ClickCompletion> ReadAsync(string code, int fromDay, int toDay, ConsistencyLevel level, CancellationToken cancellationToken) =>
        StartAsync("clicks.read", [new("link.code", code), new("clicks.level", ClickOptions.LevelName(level))], node => node.Read(code, fromDay, toDay, level), cancellationToken);

    public Task<ClickCompletion> SummaryAsync(int fromDay, int toDay, CancellationToken cancellationToken) =>
        StartAsync("clicks.summary", [], node => node.Summary(fromDay, toDay), cancellationToken);

    /// <summary>A message from a peer (the peer service calls this); decoded here, handled on the loop.</summary>
    public void Receive(ClickPacket packet)
    {
        if (_node is null || _faults.DropInbound(packet.From) || _faults.Paused)
        {
            return;
        }

        ClickMessage message;
        try
        {
            message = ClickMessageCodec.Decode(packet.Body.Span);
        }
        catch (FormatException e)
        {
            _logger.LogWarning("Dropped a click-store message from node {Peer} this version cannot read: {Error}", packet.From, e.Message);
            return;
        }

        // Bounded: a peer faster than this loop loses messages (counted), never this node's memory.
        if (Interlocked.Increment(ref _inboundQueued) > MaxInboundQueued)
        {
            Interlocked.Decrement(ref _inboundQueued);
            _metrics.ClickMessageDropped(packet.From, "inbound-full");
            return;
        }

        Enqueue(new Inbound(message));
    }

    private void Enqueue(Work work)
    {
        _work.Enqueue(work);
        _workArrived.Release();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_node is not null)
        {
            _metrics.ObserveClicks(this);
            _loop = new Thread(Run) { IsBackground = true, Name = "clicks" };
            _loop.Start();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await Task.Run(_loop.Join, CancellationToken.None).ConfigureAwait(false);
        }

        if (_flusher is not null)
        {
            await _flusher.DisposeAsync().ConfigureAwait(false);
        }

        DisposeStorage();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop.Dispose();
        _workArrived.Dispose();
    }

    /// <summary>An operation of the click store, run on its loop, in a span of its own (the request's child) that says how it ended.</summary>
    private async Task<ClickCompletion> StartAsync(string name, KeyValuePair<string, object?>[] tags, Func<ClickNode, ulong> start, CancellationToken cancellationToken)
    {
        if (_node is null)
        {
            throw new InvalidOperationException("click tracking is off on this node (Shortener:Clicks:Delivery=off)");
        }

        using var activity = ShortenerMetrics.ActivitySource.StartActivity(name, ActivityKind.Internal, parentContext: default, tags);
        var done = new TaskCompletionSource<ClickCompletion>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Operation(start, done));
        ClickCompletion result;
        try
        {
            // The state machine ends every operation by its own deadlines; this bound is for a loop that stopped or fell far behind.
            result = await done.Task.WaitAsync(TimeSpan.FromMilliseconds(4L * Options.RequestTimeoutMs), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            result = new ClickCompletion(0, false, $"this node's click store did not answer within {4 * Options.RequestTimeoutMs} ms");
        }

        activity?.SetTag("clicks.repaired", result.Repaired);
        if (!result.Ok)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Error);
        }

        return result;
    }

    private void Run()
    {
        if (BackgroundPriority.Apply(Options.BackgroundNice))
        {
            _logger.LogDebug("The click store loop runs at nice {Nice}", Options.BackgroundNice);
        }

        var tickTicks = (long)(Options.TickMs / 1000.0 * Stopwatch.Frequency);
        var nextTick = Stopwatch.GetTimestamp();
        var failuresLogged = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), nextTick);
                if (wait > TimeSpan.Zero)
                {
                    // Whole milliseconds, rounded up: a wait of less than one returned at once, and
                    // the loop spun on the clock for the rest of every tick (a profile of an idle
                    // node found this thread its busiest).
                    _workArrived.Wait((int)Math.Ceiling(wait.TotalMilliseconds), _stop.Token);
                }

                if (_faults.Paused)
                {
                    // A paused node (fault injection) does nothing, like a stopped process; what arrives meanwhile is lost.
                    while (_work.TryDequeue(out var dropped))
                    {
                        if (dropped is Inbound)
                        {
                            Interlocked.Decrement(ref _inboundQueued);
                        }

                        (dropped as Operation)?.Done.TrySetResult(new ClickCompletion(0, false, "this node's click store is paused (fault injection)"));
                    }

                    nextTick = Stopwatch.GetTimestamp() + tickTicks;
                    continue;
                }

                for (var taken = 0; taken < MaxWorkPerRound && !_stop.IsCancellationRequested && _work.TryDequeue(out var work); taken++)
                {
                    if (work is Inbound)
                    {
                        Interlocked.Decrement(ref _inboundQueued);
                    }

                    Handle(work);
                }

                if (Stopwatch.GetTimestamp() >= nextTick)
                {
                    nextTick = Stopwatch.GetTimestamp() + tickTicks;
                    Tick();
                }

                failuresLogged = 0;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A bug or a storage failure the state machines did not absorb: log it (once per streak) and go on.
                if (failuresLogged++ == 0)
                {
                    _logger.LogError(e, "The click store loop failed; it goes on at the next tick");
                }

                _stop.Token.WaitHandle.WaitOne(Options.TickMs);
            }
        }

        foreach (var waiter in _waiting.Values)
        {
            waiter.TrySetResult(new ClickCompletion(0, false, "this node is stopping"));
        }

        while (_work.TryDequeue(out var left))
        {
            (left as Operation)?.Done.TrySetResult(new ClickCompletion(0, false, "this node is stopping"));
        }
    }

    private void Handle(Work work)
    {
        switch (work)
        {
            case Inbound inbound:
                _node!.Step(inbound.Message);
                break;
            case Operation operation:
                try
                {
                    _waiting[operation.Start(_node!)] = operation.Done;
                }
                catch (Exception e)
                {
                    operation.Done.TrySetResult(new ClickCompletion(0, false, "the operation could not start: " + e.Message));
                    throw;
                }

                break;
        }

        Flush();
    }

    private void Tick()
    {
        FollowRing();
        _up = _gossip.ReachableMembers(_phiThreshold);
        var now = MonotonicMs();
        _node!.Tick(now, _time.GetUtcNow().ToUnixTimeMilliseconds());
        var failures = _relay!.ConsecutiveFailures;
        // Every record the outbox took, acknowledged or not: grows while this node serves redirects.
        var source = (_outbox as IClickOutbox ?? _memoryQueue)!;
        if (_pacer.Allow(now, source.Acknowledged + source.Depth, CpuStallUs()))
        {
            _relay.Tick(now);
        }

        Flush();
        if (_relay.ConsecutiveFailures == 1 && failures == 0)
        {
            _logger.LogWarning("Shipping clicks failed ({Level}); the outbox keeps them and the relay retries with backoff", _relay.Level);
        }
        else if (_relay.ConsecutiveFailures == 0 && failures > 0)
        {
            _logger.LogInformation("Shipping clicks works again after {Failures} failed attempts", failures);
        }

        var counters = _node.Counters;
        if (counters.StoreFailures > Figures.Node.StoreFailures)
        {
            _logger.LogError("The click store on this node's disk failed: {Error}", counters.LastStoreError);
        }

        if (counters.ClicksSealed > Figures.Node.ClicksSealed)
        {
            _logger.LogInformation("Sealed {Clicks} clicks of days more than {Days} days old into per-origin counters", counters.ClicksSealed - Figures.Node.ClicksSealed, Options.SealAfterDays);
        }

        if (_store!.ReplacedDamagedRecords > _damagedRecordsLogged)
        {
            _logger.LogError("{Records} sealed days in {Path} could not be read (damage on disk) and were replaced by this replica's seal or another replica's version", _store.ReplacedDamagedRecords - _damagedRecordsLogged, _store.Path);
            _damagedRecordsLogged = _store.ReplacedDamagedRecords;
        }

        if (counters.LateClicks > Figures.Node.LateClicks)
        {
            _logger.LogWarning("{Clicks} clicks reached this replica after it had sealed their day and were not counted here (Shortener:Clicks:SealAfterDays is {Days})", counters.LateClicks - Figures.Node.LateClicks, Options.SealAfterDays);
        }

        Figures = new ClickFigures(
            source.Depth,
            _hints!.Count,
            _storedAtOpen + counters.ClicksStored,
            _relay.Shipped,
            _relay.FailedAttempts,
            _relay.Lost,
            counters.Snapshot())
        {
            RelayHeldBack = _pacer.HeldBack,
            RelayPaced = _pacer.Busy,
        };
    }

    /// <summary>The host's cumulative CPU stall (Linux PSI), or null where the kernel does not report it.</summary>
    private long? CpuStallUs()
    {
        if (!_pressureAvailable)
        {
            return null;
        }

        try
        {
            return ClickPacer.ParseCpuPressure(File.ReadAllText("/proc/pressure/cpu"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            _pressureAvailable = false;
            _logger.LogInformation("No CPU pressure information here ({Error}): the relay ships at full speed whatever the load", e.Message);
            return null;
        }
    }

    private void Flush()
    {
        foreach (var completion in _node!.TakeCompletions())
        {
            if (_relay!.Complete(completion))
            {
                continue;
            }

            if (_waiting.Remove(completion.Op, out var waiter))
            {
                waiter.TrySetResult(completion);
            }
        }

        foreach (var message in _node.TakeMessages())
        {
            _peers.SendClick(message.To, new ClickPacket { From = message.From, Body = UnsafeByteOperations.UnsafeWrap(ClickMessageCodec.Encode(message)) });
        }
    }

    private void FollowRing()
    {
        var topology = _members.Topology;
        if (topology.Version == _ringVersion)
        {
            return;
        }

        _ringVersion = topology.Version;
        _node!.SetRing(new HashRing(topology.Members.Select(m => new RingNode(m.Id, m.Dc, HashRing.TokensFor(m.Id)))));
    }

    /// <summary>The state machines' clock: monotonic, so a wall clock stepped back cannot freeze their timeouts and backoff.</summary>
    private static long MonotonicMs() => Environment.TickCount64;

    private void DisposeStorage()
    {
        _outbox?.Dispose();
        _hints?.Dispose();
        _store?.Dispose();
    }

    private abstract record Work;

    private sealed record Inbound(ClickMessage Message) : Work;

    private sealed record Operation(Func<ClickNode, ulong> Start, TaskCompletionSource<ClickCompletion> Done) : Work;
}
