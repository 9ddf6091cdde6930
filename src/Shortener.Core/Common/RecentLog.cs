namespace Shortener.Core.Common;

/// <summary>
/// The newest items of an ordered stream, in memory and bounded, for readers that follow it live
/// (the change feed, the visits stream, the sinks): it covers every item after
/// <see cref="CoveredAfter"/>; a reader from an older key must read a durable store (or is told
/// it is too late). Items are appended in ascending key order by one writer; reads come from any
/// thread, and <see cref="WhenChangedAsync"/> wakes readers at the next append.
/// </summary>
public sealed class RecentLog<TKey, TItem>
    where TKey : IComparable<TKey>
{
    private readonly object _gate = new();
    private readonly (TKey Key, TItem Item)[] _ring;
    private int _start;
    private int _count;
    private TKey _coveredAfter;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>An empty log that covers everything after <paramref name="coveredAfter"/>.</summary>
    public RecentLog(int capacity, TKey coveredAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new (TKey, TItem)[capacity];
        _coveredAfter = coveredAfter;
    }

    public int Capacity => _ring.Length;

    /// <summary>Every item after this key is here (until newer ones push it out).</summary>
    public TKey CoveredAfter
    {
        get
        {
            lock (_gate)
            {
                return _coveredAfter;
            }
        }
    }

    /// <summary>Completes at the next append (or reset).</summary>
    public Task WhenChangedAsync()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    /// <summary>Appends one item (the redirect path's case: no collection to allocate).</summary>
    public void Append(TKey key, TItem item)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            Add(key, item);
            signal = Swap();
        }

        signal.TrySetResult();
    }

    /// <summary>Appends items whose keys are above every key appended before; the oldest go when it is full.</summary>
    public void Append(IEnumerable<(TKey Key, TItem Item)> items)
    {
        TaskCompletionSource? signal = null;
        lock (_gate)
        {
            foreach (var (key, item) in items)
            {
                Add(key, item);
                signal ??= Swap();
            }
        }

        signal?.TrySetResult();
    }

    /// <summary>Forgets every item; from now on it covers what comes after <paramref name="coveredAfter"/>.</summary>
    public void Reset(TKey coveredAfter)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            Array.Clear(_ring);
            _start = _count = 0;
            _coveredAfter = coveredAfter;
            signal = Swap();
        }

        signal.TrySetResult();
    }

    /// <summary>Up to <paramref name="limit"/> items after <paramref name="after"/>, in key order, if the log covers that key (false: it is older).</summary>
    public bool TryRead(TKey after, int limit, out IReadOnlyList<TItem> items)
    {
        lock (_gate)
        {
            if (after.CompareTo(_coveredAfter) < 0)
            {
                items = [];
                return false;
            }

            var list = new List<TItem>(Math.Min(limit, _count));
            for (var i = FirstAfter(after); i < _count && list.Count < limit; i++)
            {
                list.Add(_ring[(_start + i) % _ring.Length].Item);
            }

            items = list;
            return true;
        }
    }

    private void Add(TKey key, TItem item)
    {
        if (_count == _ring.Length)
        {
            _coveredAfter = _ring[_start].Key;
            _ring[_start] = default;
            _start = (_start + 1) % _ring.Length;
            _count--;
        }

        _ring[(_start + _count) % _ring.Length] = (key, item);
        _count++;
    }

    /// <summary>The place in the ring of the first item after <paramref name="key"/> (keys ascend: binary search).</summary>
    private int FirstAfter(TKey key)
    {
        int low = 0, high = _count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_ring[(_start + middle) % _ring.Length].Key.CompareTo(key) <= 0)
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

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
