namespace Shortener.Core.Clicks;

/// <summary>
/// An <see cref="IClickOutbox"/> in memory, bounded: the queue of at-most-once delivery (lost
/// with the process, and a click that finds it full is dropped), and the simulator's
/// model of the durable outbox (kept across a simulated crash).
/// </summary>
public sealed class InMemoryClickOutbox(int capacity = int.MaxValue) : IClickOutbox
{
    private readonly Queue<(long Seq, byte[] Payload)> _records = new();
    private readonly Lock _lock = new();
    private long _nextSeq = 1;
    private long _acked;

    public long Acknowledged
    {
        get
        {
            lock (_lock)
            {
                return _acked;
            }
        }
    }

    public long Depth
    {
        get
        {
            lock (_lock)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>Appends a record; its sequence, or null when the queue is full (the click is dropped).</summary>
    public long? Append(byte[] payload)
    {
        lock (_lock)
        {
            if (_records.Count >= capacity)
            {
                return null;
            }

            var seq = _nextSeq++;
            _records.Enqueue((seq, payload));
            return seq;
        }
    }

    public IReadOnlyList<(long Seq, byte[] Payload)> Read(long after, int max)
    {
        lock (_lock)
        {
            return _records.Where(r => r.Seq > after).Take(max).ToList();
        }
    }

    public void Acknowledge(long upTo)
    {
        lock (_lock)
        {
            while (_records.TryPeek(out var first) && first.Seq <= upTo)
            {
                _records.Dequeue();
            }

            _acked = Math.Max(_acked, upTo);
        }
    }
}
