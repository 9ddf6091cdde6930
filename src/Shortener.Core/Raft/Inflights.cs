namespace Shortener.Core.Raft;

/// <summary>
/// The appends a leader has sent to one follower and not yet seen acknowledged, as a bounded FIFO
/// of (last index, bytes). Full means the leader stops sending to that follower until acks free room.
/// </summary>
public sealed class Inflights(int capacity, long maxBytes)
{
    private readonly Queue<(ulong Index, long Bytes)> _queue = new();
    private long _bytes;

    public int Count => _queue.Count;

    public bool Full => _queue.Count >= capacity || (maxBytes > 0 && _bytes >= maxBytes);

    public void Add(ulong index, long bytes)
    {
        if (_queue.Count >= capacity)
        {
            throw new InvalidOperationException("inflights full");
        }

        _queue.Enqueue((index, bytes));
        _bytes += bytes;
    }

    /// <summary>Forgets every append whose last index is at or below <paramref name="index"/>.</summary>
    public void FreeLE(ulong index)
    {
        while (_queue.TryPeek(out var head) && head.Index <= index)
        {
            _queue.Dequeue();
            _bytes -= head.Bytes;
        }
    }

    public void FreeFirstOne()
    {
        if (_queue.TryDequeue(out var head))
        {
            _bytes -= head.Bytes;
        }
    }

    public void Reset()
    {
        _queue.Clear();
        _bytes = 0;
    }
}
