using Shortener.Core.Changes;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// A shard's newest changes as its replica applied them, in memory: what the change feed and the
/// sinks read first, so an event is readable the moment its command applied rather than when the
/// node's database next commits (every 100 ms). Bounded: it holds the last
/// <see cref="Capacity"/> changes, and covers every change after <see cref="CoveredAfter"/>; a
/// reader from an older position reads the committed <c>changes</c> table instead. Writes come
/// from the driver's thread, in log order; reads from any thread.
/// </summary>
public sealed class ChangeTail
{
    public const int DefaultCapacity = 8192;

    private readonly object _gate = new();
    private readonly LinkChange[] _ring;
    private readonly int _shard;
    private int _start;
    private int _count;
    private ChangeOffset _coveredAfter;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>A tail of <paramref name="shard"/> whose replica has applied through <paramref name="appliedIndex"/> (those changes are in the database).</summary>
    public ChangeTail(int shard, ulong appliedIndex, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new LinkChange[capacity];
        _shard = shard;
        _coveredAfter = Boundary(appliedIndex);
    }

    public int Capacity => _ring.Length;

    /// <summary>Every change after this offset is in the tail (until it is pushed out by newer ones).</summary>
    public ChangeOffset CoveredAfter
    {
        get
        {
            lock (_gate)
            {
                return _coveredAfter;
            }
        }
    }

    /// <summary>Completes when the next change arrives (or a snapshot replaced the shard's state).</summary>
    public Task WhenChangedAsync()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    /// <summary>Takes the changes of an applied batch (driver thread, log order).</summary>
    public void Append(IReadOnlyList<BatchItemResult> results)
    {
        TaskCompletionSource? signal = null;
        lock (_gate)
        {
            foreach (var result in results)
            {
                if (result.Change is not { } change)
                {
                    continue;
                }

                if (_count == _ring.Length)
                {
                    _coveredAfter = _ring[_start].Offset;
                    _start = (_start + 1) % _ring.Length;
                    _count--;
                }

                _ring[(_start + _count) % _ring.Length] = change;
                _count++;
                signal ??= Swap();
            }
        }

        signal?.TrySetResult();
    }

    /// <summary>Forgets everything: a snapshot through <paramref name="appliedIndex"/> replaced the shard's rows (its changes are in the database).</summary>
    public void Reset(ulong appliedIndex)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            Array.Clear(_ring);
            _start = _count = 0;
            _coveredAfter = Boundary(appliedIndex);
            signal = Swap();
        }

        signal.TrySetResult();
    }

    /// <summary>
    /// Up to <paramref name="limit"/> changes after <paramref name="after"/>, in offset order, if the
    /// tail covers that position (false: read the database). No position (from the oldest kept) is
    /// never covered.
    /// </summary>
    public bool TryRead(ChangeOffset? after, int limit, out IReadOnlyList<LinkChange> changes)
    {
        lock (_gate)
        {
            if (after is not { } from || from.CompareTo(_coveredAfter) < 0)
            {
                changes = [];
                return false;
            }

            var list = new List<LinkChange>(Math.Min(limit, _count));
            for (var i = FirstAfter(from); i < _count && list.Count < limit; i++)
            {
                list.Add(_ring[(_start + i) % _ring.Length]);
            }

            changes = list;
            return true;
        }
    }

    /// <summary>The place in the ring of the first change after <paramref name="from"/> (binary search: offsets ascend).</summary>
    private int FirstAfter(ChangeOffset from)
    {
        int low = 0, high = _count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_ring[(_start + middle) % _ring.Length].Offset.CompareTo(from) <= 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private TaskCompletionSource Swap()
    {
        var fired = _changed;
        _changed = NewSignal();
        return fired;
    }

    /// <summary>The offset after every change of entries through <paramref name="index"/>.</summary>
    private ChangeOffset Boundary(ulong index) => new(_shard, index, int.MaxValue);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
