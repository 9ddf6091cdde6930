using Microsoft.Extensions.Logging;
using Shortener.Core.Changes;
using Shortener.Core.Leases;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Node.Shards;

namespace Shortener.Node.Sinks;

/// <summary>Where a deliverer stands on this node.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DelivererPhase>))]
public enum DelivererPhase
{
    /// <summary>This node does not lead the shard, or another node holds the lease.</summary>
    Standby,

    /// <summary>Holds the lease and delivers.</summary>
    Delivering,

    /// <summary>Holds the lease; the last write failed and is retried after a wait.</summary>
    Retrying,
}

/// <summary>What one deliverer on this node knows (for status).</summary>
public sealed record DelivererView(string Sink, int Shard, DelivererPhase Phase, ulong Token, string? DeliveredThrough, int Attempts, string? LastError);

/// <summary>
/// Delivers one shard's change events to one sink from this node, while this node leads the shard
/// and holds the shard's lease for the sink (docs/cdc.md). It takes the lease through the shard's
/// log, resumes from the progress the lease carries, writes batches in offset order under the
/// lease's token, retries a failed write with exponential backoff and full jitter (without end
/// while the sink is down; a batch the sink refuses, only up to a bound, then it is recorded as
/// a dead letter and delivery moves on). It counts its lease in the node's Raft
/// ticks: a process that was stopped counts none while stopped, so on waking it may still believe
/// it holds a lease that another node has since taken; the sink refuses its stale token.
/// </summary>
public sealed class ShardDeliverer(
    SinkDefinition sink,
    ShardReplica replica,
    ShardHost shards,
    ISinkWriter writer,
    SinkOptions options,
    ulong node,
    TimeProvider time,
    SinkMetrics metrics,
    ILogger logger)
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    private readonly long _leaseTicks = options.LeaseMs / shards.Options.TickMs;
    private readonly long _renewTicks = Math.Max(1, options.RenewMs / shards.Options.TickMs);
    private Lease? _lease;
    private long _grantTick;
    private SinkProgress _progress = SinkProgress.Start;
    private SinkProgress? _recorded;
    private Task<(CommandResult Result, long Tick, SinkProgress Sent)>? _renewing;
    private int _attempts;
    private IReadOnlyList<LinkChange>? _inFlight;
    private long _retryAtMs;
    private string? _lastError;
    private DelivererPhase _phase;

    public int Shard => replica.Shard;

    public DelivererView View => new(sink.Name, Shard, _phase, _lease?.Token ?? 0, _progress.After(Shard)?.Id, _attempts, _lastError);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await StepAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The shard could not be reached (no quorum, a partition) or read: try again shortly.
                _lastError = e.Message;
                logger.LogWarning("Sink {Sink} shard {Shard}: {Error}", sink.Name, Shard, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(options.RenewMs), time, cancellationToken).ConfigureAwait(false);
            }
        }

        if (_lease is not null)
        {
            // Stopping (the sink was removed, or the node shuts down): hand over, but never hold the stop up long.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await HandOverAsync(bounded.Token).ConfigureAwait(false);
        }
    }

    /// <summary>One round: keep or take the lease, then deliver what is new, or wait for it.</summary>
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        if (_renewing is { IsCompleted: true } renewed)
        {
            _renewing = null;
            Renewed(await renewed.ConfigureAwait(false));
        }

        if (_inFlight is { } batch)
        {
            // A write that failed is retried while the lease lasts by this node's count, whoever
            // leads now: the work was begun under the lease. Past it, the next holder delivers it.
            // Meanwhile the lease is renewed (recording how far delivery got) as when delivering:
            // a sink down for longer than a lease must not cost the lease, nor the record of the
            // position a restarted or new holder resumes from.
            if (HoldsLease)
            {
                RenewIfDue(cancellationToken);
                var untilRetry = _retryAtMs - NowMs();
                if (untilRetry > 0)
                {
                    await PauseAsync(Math.Min(untilRetry, MsUntilRenewal()), cancellationToken).ConfigureAwait(false);
                    return;
                }

                await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                return;
            }

            _inFlight = null;
            _lease = null;
        }

        if (replica.Status.Role != RaftRole.Leader)
        {
            if (_lease is not null)
            {
                await HandOverAsync(cancellationToken).ConfigureAwait(false);
            }

            _phase = DelivererPhase.Standby;
            await Task.Delay(TimeSpan.FromMilliseconds(options.RenewMs), time, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (_lease is null)
        {
            if (!await AcquireAsync(cancellationToken).ConfigureAwait(false))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(options.RenewMs), time, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        else
        {
            RenewIfDue(cancellationToken);
        }

        if (!HoldsLease)
        {
            logger.LogWarning("Sink {Sink} shard {Shard}: the lease (token {Token}) ran out before it could be renewed; delivery stops until it is taken again", sink.Name, Shard, _lease?.Token);
            _lease = null;
            return;
        }

        var changed = replica.Links.Tail.WhenChangedAsync();
        var after = _progress.After(Shard);
        var (changes, purged) = await replica.Links.ReadChangesAsync(after, options.BatchSize).ConfigureAwait(false);
        if (after is { } held && purged is { } through && held.CompareTo(through) < 0)
        {
            SkipPurged(held, through);
            await RecordAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (changes.Count == 0)
        {
            // Wake for a change, for the renewal that is due, or, with one under way, for its answer
            // (or the lease running out without one).
            await PauseAsync(MsUntilRenewal(), cancellationToken, changed).ConfigureAwait(false);
            return;
        }

        await WriteAsync(changes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Renewals go through the shard's log in the background, carrying the progress so far: delivery never waits on a Raft round.</summary>
    private void RenewIfDue(CancellationToken cancellationToken)
    {
        if (_lease is { } lease && _renewing is null && shards.Ticks - _grantTick >= _renewTicks)
        {
            _renewing = RenewAsync(lease, _progress, cancellationToken);
        }
    }

    /// <summary>How long until a renewal is due, or, with one under way, until the lease would run out without its answer.</summary>
    private long MsUntilRenewal()
    {
        var untilTick = _renewing is null ? _renewTicks : _leaseTicks - 2;
        return Math.Max(1, (untilTick - (shards.Ticks - _grantTick)) * shards.Options.TickMs);
    }

    /// <summary>
    /// Waits up to <paramref name="ms"/>, or until <paramref name="changed"/> completes or a renewal
    /// under way is answered. WaitAsync drops its timer when the wait ends early (a Task.Delay here
    /// would leave one running per change until it fired); a timeout or a stop ends the wait
    /// without a throw.
    /// </summary>
    private async Task PauseAsync(long ms, CancellationToken cancellationToken, Task? changed = null) =>
        await ((Task)Task.WhenAny(changed ?? Never, _renewing ?? Never).WaitAsync(TimeSpan.FromMilliseconds(Math.Max(1, ms)), time, cancellationToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>Whether, by this node's own count of ticks, the lease it was granted still runs (with two ticks to spare).</summary>
    private bool HoldsLease => _lease is not null && shards.Ticks - _grantTick < _leaseTicks - 2;

    private async Task<bool> AcquireAsync(CancellationToken cancellationToken)
    {
        var tick = shards.Ticks;
        var result = await replica.ProposeAsync(new LinkCommandEnvelope(new AcquireLease(NowMs(), sink.LeaseName, node, options.LeaseMs)), cancellationToken).ConfigureAwait(false);
        if (result.Outcome != CommandOutcome.Ok || result.Lease is not { } lease)
        {
            _phase = DelivererPhase.Standby;
            return false;
        }

        // A new term of the lease: whoever held it before may have delivered further than we knew.
        _progress = lease.Progress is { } recorded ? SinkProgress.Parse(recorded) : await FirstProgressAsync().ConfigureAwait(false);
        _recorded = lease.Progress is null ? null : _progress;
        _inFlight = null;
        _attempts = 0;
        _lease = lease;
        _grantTick = tick;
        _phase = DelivererPhase.Delivering;
        metrics.LeaseTaken(sink.Name);
        logger.LogInformation("Sink {Sink} shard {Shard}: took the lease with token {Token}, delivering after {Offset}", sink.Name, Shard, lease.Token, _progress.After(Shard)?.Id ?? "the oldest kept event");
        return true;
    }

    /// <summary>
    /// Where a sink nobody has delivered to starts: after the last change made before it was added
    /// (by command time), or, from oldest, at the oldest change kept.
    /// </summary>
    private async Task<SinkProgress> FirstProgressAsync()
    {
        if (sink.FromOldest)
        {
            return SinkProgress.Start;
        }

        await replica.Links.WhenCommittedAsync().ConfigureAwait(false);
        return replica.Links.LastChangeBefore(sink.CreatedAt) is { } before ? SinkProgress.Start.Through(before) : SinkProgress.Start;
    }

    private async Task<(CommandResult Result, long Tick, SinkProgress Sent)> RenewAsync(Lease lease, SinkProgress progress, CancellationToken cancellationToken)
    {
        var tick = shards.Ticks;
        var command = new AcquireLease(NowMs(), sink.LeaseName, node, options.LeaseMs, progress == _recorded ? null : progress.Serialize());
        return (await replica.ProposeAsync(new LinkCommandEnvelope(command), cancellationToken).ConfigureAwait(false), tick, progress);
    }

    /// <summary>A renewal came back: the lease runs on from when it was asked for, or it is someone else's now.</summary>
    private void Renewed((CommandResult Result, long Tick, SinkProgress Sent) renewal)
    {
        var (result, tick, sent) = renewal;
        if (_lease is null)
        {
            return;
        }

        if (result.Outcome == CommandOutcome.Ok && result.Lease is { } lease && lease.Token == _lease.Token)
        {
            _lease = lease;
            _grantTick = tick;
            _recorded = sent;
            return;
        }

        logger.LogWarning("Sink {Sink} shard {Shard}: lost the lease (token {Token}) to node {Holder} (token {Theirs})", sink.Name, Shard, _lease.Token, result.Lease?.Holder, result.Lease?.Token);
        _lease = null;
        _inFlight = null;
        _phase = DelivererPhase.Standby;
    }

    private async Task WriteAsync(IReadOnlyList<LinkChange> ready, CancellationToken cancellationToken)
    {
        var token = _lease!.Token;
        var batch = new ShardBatch(Shard, token, ready, Later, options.BatchSize);
        var changes = batch.Changes; // the batch's own list: after the write it holds what a top-up added
        try
        {
            var write = await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            _inFlight = null;
            if (write.Outcome == SinkWriteOutcome.Fenced)
            {
                metrics.Fenced(sink.Name);
                logger.LogWarning("Sink {Sink} shard {Shard}: the sink refused fencing token {Token} (it has seen {Highest}): another node holds the lease; this one stops", sink.Name, Shard, token, write.HighestToken);
                _lease = null;
                _phase = DelivererPhase.Standby;
                return;
            }

            var now = NowMs();
            metrics.Delivered(sink.Name, write.Added, changes.Select(c => now - c.AtMs));
            _progress = _progress.Through(changes[^1].Offset);
            _attempts = 0;
            _lastError = null;
            _phase = DelivererPhase.Delivering;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.Failed(sink.Name);
            _lastError = e.Message;
            _attempts++;
            _inFlight = changes;
            if (e is SinkRejectedException && _attempts >= options.MaxAttempts)
            {
                _inFlight = null;
                logger.LogError("Sink {Sink} shard {Shard}: {Count} events ({From} to {To}) failed {Attempts} times and go to the dead letters: {Error}", sink.Name, Shard, changes.Count, changes[0].Offset.Id, changes[^1].Offset.Id, _attempts, e.Message);
                metrics.DeadLettered(sink.Name, changes.Count);
                _progress = _progress.Through(changes[^1].Offset).WithDead(new DeadLetter(changes[0].Offset.Id, changes[^1].Offset.Id, changes.Count, e.Message, NowMs()));
                _attempts = 0;
                await RecordAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            _phase = DelivererPhase.Retrying;
            logger.LogWarning("Sink {Sink} shard {Shard}: write attempt {Attempt} failed: {Error}", sink.Name, Shard, _attempts, e.Message);
            _retryAtMs = NowMs() + (long)Backoff(_attempts).TotalMilliseconds;
        }
    }

    /// <summary>The changes applied after <paramref name="after"/> that the shard's tail holds now (a batch's top-up as it is sent).</summary>
    private IReadOnlyList<LinkChange> Later(ChangeOffset after, int limit) =>
        replica.Links.Tail.TryRead(after, limit, out var more) ? more : [];

    /// <summary>Events purged from the shard before this sink got them: recorded as a dead letter, delivery goes on after them.</summary>
    private void SkipPurged(ChangeOffset after, ChangeOffset through)
    {
        logger.LogError("Sink {Sink} shard {Shard}: events after {After} through {Through} were purged before delivery", sink.Name, Shard, after.Id, through.Id);
        metrics.DeadLettered(sink.Name, 1);
        _progress = _progress.Through(through).WithDead(new DeadLetter(after.Id, through.Id, 0, "purged before delivery (older than the change retention)", NowMs()));
    }

    /// <summary>Writes how far delivery got now, under the lease's token (a dead letter, a hand-over); a refusal means the lease is gone.</summary>
    private async Task RecordAsync(CancellationToken cancellationToken)
    {
        if (_lease is not { } lease || _progress == _recorded)
        {
            return;
        }

        var progress = _progress;
        var result = await replica.ProposeAsync(new LinkCommandEnvelope(new RecordLeaseProgress(NowMs(), sink.LeaseName, lease.Token, progress.Serialize())), cancellationToken).ConfigureAwait(false);
        if (result.Outcome != CommandOutcome.Ok)
        {
            logger.LogWarning("Sink {Sink} shard {Shard}: progress refused for token {Token} (the lease is at {Current}); this node stops delivering", sink.Name, Shard, lease.Token, result.Lease?.Token);
            _lease = null;
            _phase = DelivererPhase.Standby;
            return;
        }

        _recorded = progress;
    }

    /// <summary>This node stopped leading the shard (or stops): note the progress and free the lease for the new leader's node.</summary>
    private async Task HandOverAsync(CancellationToken cancellationToken)
    {
        var lease = _lease!;
        try
        {
            await RecordAsync(cancellationToken).ConfigureAwait(false);
            await replica.ProposeAsync(new LinkCommandEnvelope(new ReleaseLease(NowMs(), sink.LeaseName, lease.Token)), cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Sink {Sink} shard {Shard}: handed over the lease (token {Token})", sink.Name, Shard, lease.Token);
        }
        catch (Exception e)
        {
            logger.LogInformation("Sink {Sink} shard {Shard}: could not hand over the lease (token {Token}); it expires: {Error}", sink.Name, Shard, lease.Token, e.Message);
        }

        _lease = null;
    }

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(options.BackoffMaxMs, options.BackoffBaseMs * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    private long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
