using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Shortener.Node.Clicks;

namespace Shortener.Node.Shards;

/// <summary>
/// The one thread on which a node's shard replicas capture their snapshots and write their
/// snapshot files, one piece of work at a time, at a lowered CPU priority. Shards fill at about
/// the same rate, so they all reach their snapshot threshold within seconds of each other: run
/// at once, on pool threads, their captures (megabytes each, read from the database and
/// serialized) crowded the driver thread and the requests off the CPU, and the files written on
/// the driver thread held up every shard's heartbeats, long enough for elections on every shard
/// of every node. Here they queue instead; the node's log keeps every entry until its
/// snapshot is durable, so a snapshot that waits costs only log space.
/// </summary>
public sealed class SnapshotWorker : IAsyncDisposable
{
    /// <summary>How far below the requests' and the drivers' priority the work runs (a nice value).</summary>
    private const int Nice = 5;

    private readonly BlockingCollection<Action> _queue = [];
    private readonly ILogger _logger;
    private readonly Task _thread;
    private long _done;

    public SnapshotWorker(ILogger logger)
    {
        _logger = logger;
        _thread = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>How many pieces of work wait (for /metrics).</summary>
    public int Waiting => _queue.Count;

    /// <summary>How many pieces of work ran.</summary>
    public long Done => Interlocked.Read(ref _done);

    /// <summary>Queues <paramref name="work"/>; after <see cref="DisposeAsync"/> it runs on the caller's thread (a replica closing after the worker).</summary>
    public void Run(Action work)
    {
        try
        {
            _queue.Add(work);
        }
        catch (InvalidOperationException)
        {
            work();
        }
    }

    /// <summary>Runs what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.CompleteAdding();
        await _thread.ConfigureAwait(false);

        // The queue is not disposed: a late Run must still find it closed to adding.
    }

    private void Work()
    {
        Thread.CurrentThread.Name = "snapshots";
        BackgroundPriority.Apply(Nice);
        foreach (var work in _queue.GetConsumingEnumerable())
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                // Each piece of work reports its own failure to its replica; this is a bug in one.
                _logger.LogError(e, "Snapshot work failed outside its own handling");
            }

            Interlocked.Increment(ref _done);
        }
    }
}
