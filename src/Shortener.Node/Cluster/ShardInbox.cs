using System.Collections.Concurrent;

namespace Shortener.Node.Cluster;

/// <summary>
/// Many writers, one reader on a thread of its own that sleeps when there is nothing to do. The
/// reader blocks on an event that never spins: sixteen shard threads spinning on every wake-up
/// cost more CPU than the work they wake up for.
/// </summary>
internal sealed class ShardInbox : IDisposable
{
    private readonly ConcurrentQueue<ShardEvent> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly ManualResetEventSlim? _shared;
    private volatile bool _completed;

    /// <param name="shared">Also set on every write: the event a driver of many inboxes sleeps on.</param>
    public ShardInbox(ManualResetEventSlim? shared = null) => _shared = shared;

    public bool IsEmpty => _queue.IsEmpty;

    /// <summary>False once the inbox is completed (the event is not queued).</summary>
    public bool TryWrite(ShardEvent e)
    {
        if (_completed)
        {
            return false;
        }

        _queue.Enqueue(e);
        _signal.Set();
        _shared?.Set();
        return true;
    }

    public bool TryRead(out ShardEvent e) => _queue.TryDequeue(out e!);

    /// <summary>Blocks until an event is queued; false when completed and drained.</summary>
    public bool WaitToRead()
    {
        while (true)
        {
            if (!_queue.IsEmpty)
            {
                return true;
            }

            if (_completed)
            {
                return false;
            }

            _signal.Reset();

            // Re-check after the reset: a writer that enqueued before it set the event again.
            if (!_queue.IsEmpty || _completed)
            {
                continue;
            }

            _signal.Wait();
        }
    }

    public void Complete()
    {
        _completed = true;
        _signal.Set();
    }

    public void Dispose() => _signal.Dispose();
}
