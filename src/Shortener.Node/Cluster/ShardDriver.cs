namespace Shortener.Node.Cluster;

/// <summary>
/// One thread that runs the rounds of many shard replicas together (the node's shards, or in tests
/// one replica): each round takes every replica's next Ready and writes it to its WAL
/// (<see cref="ShardReplica.BeginRound"/>), fsyncs every WAL that needs it at once (concurrent
/// fsyncs share the file system's journal commits), then finishes each (<see cref="ShardReplica.EndRound"/>:
/// send, apply, advance). Against a thread per shard it saves most wake-ups and context switches,
/// which on a small machine are what a round of a lightly loaded shard mostly costs. It sleeps on
/// <see cref="Signal"/>, which every replica's inbox sets. A slow round of one shard (a snapshot
/// install) delays the others' by as much.
/// </summary>
public sealed class ShardDriver : IAsyncDisposable
{
    private IReadOnlyList<ShardReplica> _replicas = [];
    private Task _task = Task.CompletedTask;
    private volatile bool _stopping;

    /// <summary>Set by the replicas' inboxes; give it to each as <see cref="ShardReplicaSettings.SharedDriver"/>.</summary>
    public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

    public void Start(IReadOnlyList<ShardReplica> replicas)
    {
        _replicas = replicas;
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
        var readies = new Core.Raft.Ready?[_replicas.Count];
        var flush = new List<ShardReplica>(_replicas.Count);
        while (!_stopping)
        {
            Signal.Reset();
            var any = false;
            for (var i = 0; i < _replicas.Count; i++)
            {
                readies[i] = _replicas[i].BeginRound();
            }

            flush.Clear();
            for (var i = 0; i < _replicas.Count; i++)
            {
                if (readies[i] is { MustSync: true })
                {
                    flush.Add(_replicas[i]);
                }
            }

            if (flush.Count == 1)
            {
                flush[0].FlushWal();
            }
            else if (flush.Count > 1)
            {
                Parallel.ForEach(flush, r => r.FlushWal());
            }

            for (var i = 0; i < _replicas.Count; i++)
            {
                _replicas[i].EndRound(readies[i]);
                any |= readies[i] is not null;
            }

            // Events that arrived after the reset set the signal again: the wait returns at once.
            if (!any && !_replicas.Any(r => r.HasWork))
            {
                Signal.Wait();
            }
        }
    }
}
