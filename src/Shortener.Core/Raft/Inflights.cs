namespace Shortener.Core.Raft;

/// <summary>
/// The appends a leader has sent to one follower and not yet seen acknowledged, as a bounded FIFO
/// of their last indexes. Full means the leader stops sending to that follower until acks free room.
/// </summary>
public sealed class Inflights(int capacity)
{
    private readonly Queue<ulong> _queue = new();

    public int Count => _queue.Count;

    public bool Full => _queue.Count >= capacity;

    public void Add(ulong index)
    {
        if (_queue.Count >= capacity)
        {
            throw new InvalidOperationException("inflights full");
        }

        _queue.Enqueue(index);
    }

    /// <summary>Forgets every append whose last index is at or below <paramref name="index"/>.</summary>
    public void FreeLE(ulong index)
    {
        while (_queue.TryPeek(out var head) && head <= index)
        {
            _queue.Dequeue();
        }
    }

    public void FreeFirstOne() => _queue.TryDequeue(out _);

    public void Reset() => _queue.Clear();
}
