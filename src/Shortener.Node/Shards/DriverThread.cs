using Shortener.Core.Replication;

namespace Shortener.Node.Shards;

/// <summary>
/// The one thread that runs the rounds of all of a node's shard replicas together (in tests, of
/// one): each pass takes every replica's events and queues its Ready in the node's Raft log
/// (<see cref="ShardReplica.BeginRound"/>), has the log write and fsync them all at once (one
/// write, one fsync: group commit across shards), then finishes each
/// (<see cref="ShardReplica.EndRound"/>: send, apply, advance), commits in one transaction what
/// every replica applied, and only then lets them answer (<see cref="ShardReplica.Answer"/>: a
/// client that got its answer reads what it wrote, from any connection). Against a thread per shard it saves
/// most wake-ups and context switches, which on a small machine are what a lightly loaded shard's
/// round mostly costs. It sleeps on <see cref="Signal"/>, which every replica's inbox sets. A slow
/// round of one shard (a snapshot install) delays the others' by as much.
/// </summary>
public sealed class DriverThread : IAsyncDisposable
{
    private IReadOnlyList<ShardReplica> _replicas = [];
    private Action _commit = () => { };
    private Task _task = Task.CompletedTask;
    private volatile bool _stopping;

    /// <summary>Set by the replicas' inboxes; give it to each replica when it is opened.</summary>
    public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

    /// <param name="commit">Commits what the pass applied (the node's link database's held transaction).</param>
    public void Start(IReadOnlyList<ShardReplica> replicas, Action commit)
    {
        _replicas = replicas;
        _commit = commit;

        // A thread of its own: rounds block in fsync and SQLite, which on pool threads would starve
        // the requests waiting for them.
        _task = Task.Factory.StartNew(Drive, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Stops after the round in progress; the replicas are then the caller's to dispose.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        Signal.Set();
        await _task.ConfigureAwait(false);

        // The signal is not disposed: a replica's inbox may still set it until the replica is.
    }

    private void Drive()
    {
        Thread.CurrentThread.Name = "shard-driver";
        var starts = new RoundStart[_replicas.Count];
        var sync = new List<ShardReplica>(_replicas.Count);
        while (!_stopping)
        {
            Signal.Reset();
            var any = false;
            sync.Clear();
            for (var i = 0; i < _replicas.Count; i++)
            {
                starts[i] = _replicas[i].BeginRound();
                if (starts[i] == RoundStart.MustSync)
                {
                    sync.Add(_replicas[i]);
                }
            }

            // The replicas share one log: the first Sync writes and fsyncs everyone's records,
            // the rest find nothing left to write (or the first one's failure).
            foreach (var replica in sync)
            {
                replica.Sync();
            }

            for (var i = 0; i < _replicas.Count; i++)
            {
                _replicas[i].EndRound();
                any |= starts[i] != RoundStart.Idle;
            }

            Exception? lost = null;
            try
            {
                _commit();
            }
            catch (Exception e)
            {
                // What the replicas applied is not in the database: they stop, and what they
                // would have answered is unknown to the client (a restart replays the log).
                lost = e;
            }

            foreach (var replica in _replicas)
            {
                replica.Answer(lost);
            }

            // Events that arrived after the reset set the signal again: the wait returns at once.
            if (!any && !_replicas.Any(r => r.HasWork))
            {
                Signal.Wait();
            }
        }
    }
}
