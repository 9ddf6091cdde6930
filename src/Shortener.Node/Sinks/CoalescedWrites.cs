namespace Shortener.Node.Sinks;

/// <summary>
/// Gathers the writes that one sink's deliverers on this node ask for at about the same time into
/// one call to the sink (group commit). One call is in flight at a time; the writes asked for
/// meanwhile go together in the next, which starts no sooner than <c>interval</c> after the one
/// before. Each batch is topped up with the events that arrived while it waited just before the
/// call (<see cref="ShardBatch.TopUp"/>), so an event waits at most about one interval, not two.
/// Idle, a write goes at once; under load a call carries every shard's batch this node delivers,
/// so the sink's cost per event falls as the rate rises: each call has a fixed cost in the sink,
/// the network stack and here, which a call per event paid at every create. A write
/// whose caller stops waiting is still sent: the sink de-duplicates, and its token was current
/// when it was asked for.
/// </summary>
public sealed class CoalescedWrites(
    Func<IReadOnlyList<ShardBatch>, Task<IReadOnlyList<SinkWrite>>> send,
    TimeSpan interval,
    TimeProvider time)
{
    private sealed record Pending(ShardBatch Batch, TaskCompletionSource<SinkWrite> Done);

    private readonly Lock _gate = new();
    private List<Pending> _queued = [];
    private bool _flushing;
    private long _lastCall;
    private long _calls;
    private long _writes;

    /// <summary>How many calls went to the sink, and how many shard batches they carried.</summary>
    public (long Calls, long Writes) Counts => (Interlocked.Read(ref _calls), Interlocked.Read(ref _writes));

    public Task<SinkWrite> WriteAsync(ShardBatch batch, CancellationToken cancellationToken)
    {
        var pending = new Pending(batch, new TaskCompletionSource<SinkWrite>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_gate)
        {
            _queued.Add(pending);
            start = !_flushing;
            _flushing = true;
        }

        if (start)
        {
            _ = Task.Run(FlushAsync, CancellationToken.None);
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends what is queued, one call at a time, until nothing is; then the next write starts it again.</summary>
    private async Task FlushAsync()
    {
        while (true)
        {
            var wait = interval - time.GetElapsedTime(Volatile.Read(ref _lastCall));
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time).ConfigureAwait(false);
            }

            List<Pending> group;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                group = _queued;
                _queued = [];
            }

            Volatile.Write(ref _lastCall, time.GetTimestamp());
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _writes, group.Count);
            try
            {
                foreach (var pending in group)
                {
                    pending.Batch.TopUp();
                }

                var results = await send([.. group.Select(p => p.Batch)]).ConfigureAwait(false);
                for (var i = 0; i < group.Count; i++)
                {
                    group[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                foreach (var pending in group)
                {
                    pending.Done.TrySetException(e);
                }
            }
        }
    }
}
