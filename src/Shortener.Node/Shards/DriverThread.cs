using System.Diagnostics;
using Shortener.Core.Replication;
using Shortener.Storage.Links;

namespace Shortener.Node.Shards;

/// <summary>
/// The one thread that runs the rounds of all of a node's shard replicas together (in tests, of
/// one): each pass takes every replica's events and queues its Ready in the node's Raft log
/// (<see cref="ShardReplica.BeginRound"/>), has the log write and fsync them all at once (one
/// write, one fsync: group commit across shards), then finishes each
/// (<see cref="ShardReplica.EndRound"/>: send, apply, answer, advance). What the replicas apply
/// joins the node database's held transaction, which this thread commits on a size or time bound
/// (<see cref="CommitBound"/>: etcd's batched backend commit), not per pass: the log is the
/// durable record, and the database only has to catch up with it. Against a thread per shard it
/// saves most wake-ups and context switches, which on a small machine are what a lightly loaded
/// shard's round mostly costs. It sleeps on <see cref="Signal"/>, which every replica's inbox
/// sets. A slow round of one shard (a snapshot install) delays the others' by as much.
/// </summary>
public sealed class DriverThread : IAsyncDisposable
{
    private IReadOnlyList<ShardReplica> _replicas = [];
    private IHeldTransaction? _database;
    private CommitBound _bound = CommitBound.Default;
    private Task _task = Task.CompletedTask;
    private volatile bool _stopping;

    /// <summary>Set by the replicas' inboxes; give it to each replica when it is opened.</summary>
    public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

    /// <param name="replicas">The replicas whose rounds this thread runs.</param>
    /// <param name="database">The node's link database, whose transaction the replicas' applies join.</param>
    /// <param name="bound">When the database commits what was applied.</param>
    public void Start(IReadOnlyList<ShardReplica> replicas, IHeldTransaction database, CommitBound bound)
    {
        _replicas = replicas;
        _database = database;
        _bound = bound;

        // A thread of its own: rounds block in fsync and SQLite, which on pool threads would starve
        // the requests waiting for them.
        _task = Task.Factory.StartNew(Drive, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Stops after the round in progress and commits what was applied; the replicas are then the caller's to dispose.</summary>
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
        var database = _database!;
        var starts = new RoundStart[_replicas.Count];
        var sync = new List<ShardReplica>(_replicas.Count);
        long heldSince = 0;
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

            var wanted = database.CommitWanted;
            if (!database.Holding && !wanted)
            {
                heldSince = 0;
            }
            else
            {
                heldSince = heldSince == 0 ? Stopwatch.GetTimestamp() : heldSince;
                if (wanted || database.HeldApplies >= _bound.MaxApplies || Stopwatch.GetElapsedTime(heldSince) >= _bound.Interval)
                {
                    Commit(database);
                    heldSince = 0;
                }
            }

            // Events that arrived after the reset set the signal again: the wait returns at once.
            if (!any && !_replicas.Any(r => r.HasWork))
            {
                if (heldSince == 0)
                {
                    Signal.Wait();
                }
                else
                {
                    // Whole milliseconds, rounded up: a shorter wait returns at once and would spin.
                    var left = _bound.Interval - Stopwatch.GetElapsedTime(heldSince);
                    Signal.Wait(Math.Max(1, (int)Math.Ceiling(left.TotalMilliseconds)));
                }
            }
        }

        // What was applied goes to the database now, so a restart has less of the log to replay.
        if (database.Holding)
        {
            Commit(database);
        }
    }

    private void Commit(IHeldTransaction database)
    {
        try
        {
            database.CommitHeld();
        }
        catch (Exception e)
        {
            // What the replicas applied since the last commit is not in the database: they stop
            // rather than apply past the gap, and a restart replays the log from the index the
            // database holds. Their answers stand: what they applied is durable in the log.
            foreach (var replica in _replicas)
            {
                replica.Stop(e);
            }
        }
    }
}
