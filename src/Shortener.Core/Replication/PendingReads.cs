using System.Buffers.Binary;

namespace Shortener.Core.Replication;

/// <summary>
/// Linearizable reads waiting on a replica, bounded. Reads that arrive between two rounds share one
/// ReadIndex request (as etcd batches them), whose context names this process's proposer number
/// and a counter, so an answer to a request asked before a restart cannot complete a new one. A
/// request whose answer does not come (a lost message, a leader change) is asked again after
/// <see cref="ReplicaOptions.ReadRetryTicks"/>; a read not answered by its deadline fails.
/// </summary>
public sealed class PendingReads(ulong proposer, int capacity)
{
    private readonly List<Waiter> _waiting = [];
    private readonly SortedDictionary<ulong, Batch> _awaitingIndex = [];
    private readonly List<(ulong Index, List<Waiter> Waiters)> _awaitingApply = [];
    private ulong _nextRequest;

    public int Count { get; private set; }

    public bool Full => Count >= capacity;

    /// <summary>Reads not yet covered by a ReadIndex request.</summary>
    public bool HasWaiting => _waiting.Count > 0;

    public void Add(Action<ReadOutcome> done, ulong tick)
    {
        if (Full)
        {
            throw new InvalidOperationException($"more than {capacity} reads pending");
        }

        _waiting.Add(new Waiter(done, tick));
        Count++;
    }

    /// <summary>Moves every waiting read into one new request, issued at <paramref name="tick"/>; returns its context.</summary>
    public byte[] Issue(ulong tick)
    {
        var request = ++_nextRequest;
        _awaitingIndex[request] = new Batch(tick, [.. _waiting]);
        _waiting.Clear();
        var context = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(context, proposer);
        BinaryPrimitives.WriteUInt64LittleEndian(context.AsSpan(8), request);
        return context;
    }

    /// <summary>The leader confirmed <paramref name="index"/> as the read point of the request with <paramref name="context"/> (others' contexts are ignored).</summary>
    public void IndexKnown(byte[] context, ulong index)
    {
        if (context.Length == 16
            && BinaryPrimitives.ReadUInt64LittleEndian(context) == proposer
            && _awaitingIndex.Remove(BinaryPrimitives.ReadUInt64LittleEndian(context.AsSpan(8)), out var batch))
        {
            _awaitingApply.Add((index, batch.Waiters));
        }
    }

    /// <summary>Answers every read whose read point this replica has applied.</summary>
    public void Complete(ulong applied)
    {
        for (var i = 0; i < _awaitingApply.Count; i++)
        {
            var (index, waiters) = _awaitingApply[i];
            if (index > applied)
            {
                continue;
            }

            _awaitingApply.RemoveAt(i--);
            Count -= waiters.Count;
            foreach (var w in waiters)
            {
                w.Done(ReadOutcome.At(index));
            }
        }
    }

    /// <summary>Fails reads past their deadline; puts the reads of requests unanswered for <paramref name="retryTicks"/> back to waiting.</summary>
    public void OnTick(ulong tick, int timeoutTicks, int retryTicks)
    {
        if (Count == 0)
        {
            return;
        }

        List<ulong>? unanswered = null;
        foreach (var (request, batch) in _awaitingIndex)
        {
            if (tick - batch.IssuedTick >= (ulong)retryTicks)
            {
                (unanswered ??= []).Add(request);
            }
        }

        foreach (var request in unanswered ?? [])
        {
            _awaitingIndex.Remove(request, out var batch);
            _waiting.AddRange(batch!.Waiters);
        }

        Expire(_waiting, tick, timeoutTicks);
        List<ulong>? emptied = null;
        foreach (var (request, batch) in _awaitingIndex)
        {
            if (Expire(batch.Waiters, tick, timeoutTicks) && batch.Waiters.Count == 0)
            {
                (emptied ??= []).Add(request);
            }
        }

        foreach (var request in emptied ?? [])
        {
            _awaitingIndex.Remove(request);
        }

        var expiredAfterIndex = false;
        foreach (var (_, waiters) in _awaitingApply)
        {
            expiredAfterIndex |= Expire(waiters, tick, timeoutTicks);
        }

        if (expiredAfterIndex)
        {
            _awaitingApply.RemoveAll(a => a.Waiters.Count == 0);
        }
    }

    /// <summary>Fails every read.</summary>
    public void FailAll(string reason)
    {
        var all = _waiting.Concat(_awaitingIndex.Values.SelectMany(b => b.Waiters)).Concat(_awaitingApply.SelectMany(a => a.Waiters)).ToList();
        _waiting.Clear();
        _awaitingIndex.Clear();
        _awaitingApply.Clear();
        Count = 0;
        foreach (var w in all)
        {
            w.Done(ReadOutcome.Failed(reason));
        }
    }

    /// <summary>Fails the waiters past their deadline; returns whether there were any.</summary>
    private bool Expire(List<Waiter> waiters, ulong tick, int timeoutTicks)
    {
        var any = false;
        for (var i = 0; i < waiters.Count; i++)
        {
            if (tick - waiters[i].SubmittedTick < (ulong)timeoutTicks)
            {
                continue;
            }

            var w = waiters[i];
            waiters.RemoveAt(i--);
            Count--;
            any = true;
            w.Done(ReadOutcome.Failed($"the leader did not confirm the read within {timeoutTicks} ticks"));
        }

        return any;
    }

    private sealed record Waiter(Action<ReadOutcome> Done, ulong SubmittedTick);

    private sealed record Batch(ulong IssuedTick, List<Waiter> Waiters);
}
