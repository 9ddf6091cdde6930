using System.Collections.Concurrent;

namespace Shortener.Node.Shards;

/// <summary>
/// Many writers, one reader: the <see cref="DriverThread"/> that runs this replica's rounds. Every
/// write sets the thread's wake-up event, which never spins: sixteen shards waking a spinning
/// thread on every message cost more CPU than the work they wake it for.
/// </summary>
internal sealed class ShardInbox(ManualResetEventSlim wake)
{
    private readonly ConcurrentQueue<ShardEvent> _queue = new();
    private volatile bool _completed;

    public bool IsEmpty => _queue.IsEmpty;

    /// <summary>False once the inbox is completed (the event is not queued).</summary>
    public bool TryWrite(ShardEvent e)
    {
        if (_completed)
        {
            return false;
        }

        _queue.Enqueue(e);
        wake.Set();
        return true;
    }

    public bool TryRead(out ShardEvent e) => _queue.TryDequeue(out e!);

    public void Complete() => _completed = true;
}
