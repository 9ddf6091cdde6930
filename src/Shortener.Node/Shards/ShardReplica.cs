using Shortener.Node.Observability;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Storage;
using Shortener.Storage.Links;
using Shortener.Storage.Raft;

namespace Shortener.Node.Shards;

/// <summary>
/// This node's replica of one link shard: the host of a <see cref="ReplicaDriver{TResult}"/> over
/// the shard's group of the node's Raft log (<see cref="DurableRaftStorage"/>) and its rows in the
/// node's SQLite database (<see cref="SqliteLinkStateMachine"/>). It adds what needs threads and
/// wall time: an inbox that callers on any thread post to, tasks that complete when the driver
/// answers, the node's fault pause, the leader's membership reconciler on its ticks, and snapshot
/// captures run off the driver's thread. The node's <see cref="DriverThread"/> runs its rounds
/// with every other shard's and commits what they applied in one transaction on a size or time
/// bound; the replica answers as soon as it applied, since what it applied is durable in the log
/// and readable by code at once (a client that got its answer reads what it wrote).
/// </summary>
public sealed class ShardReplica : IAsyncDisposable
{
    private const int MaxEventsPerRound = 4096;

    private readonly ShardReplicaSettings _settings;
    private readonly DurableRaftStorage _disk;
    private readonly SqliteLinkStateMachine _state;
    private readonly ReplicaDriver<BatchItemResult> _driver;
    private readonly ShardInbox _inbox;
    private readonly ILogger _logger;
    private volatile ReplicaStatus _status;
    private long _lastTickAtMs;
    private ulong _freshAtTick;
    private long _freshAtMs;

    private ShardReplica(ShardReplicaSettings settings, DurableRaftStorage disk, SqliteLinkStateMachine state, ManualResetEventSlim wake, ILogger logger)
    {
        _settings = settings;
        _disk = disk;
        _state = state;
        _logger = logger;
        _inbox = new ShardInbox(wake);
        _lastTickAtMs = _freshAtMs = NowMs();

        state.Applied = settings.Applied;
        _driver = new ReplicaDriver<BatchItemResult>(settings.DriverOptions(), disk, state, settings.Transport, new ReplicaLog(settings.Shard, logger, settings.Journal));
        _status = _driver.Status;
    }

    public int Shard => _settings.Shard;

    /// <summary>The latest status, refreshed after every round that changed something.</summary>
    public ReplicaStatus Status => _status;

    /// <summary>
    /// Milliseconds since this replica last knew it had applied everything its leader had committed
    /// (within a tick; about 0 on a leader; counted from the replica's start until it first hears
    /// from one). It grows while the node's Raft processing is paused.
    /// </summary>
    public long AppliedAgeMs => Math.Max(0, NowMs() - Volatile.Read(ref _freshAtMs));

    /// <summary>Whether a round would do anything: events queued, or work for the driver.</summary>
    internal bool HasWork => !_inbox.IsEmpty || _driver.HasWork;

    /// <summary>
    /// Opens (or, on first start, bootstraps) the replica in <paramref name="directory"/>: its log
    /// in the node's <paramref name="log"/> (group = shard), its snapshots under raft/snap, its
    /// rows in the node's <paramref name="links"/> database. Without
    /// <paramref name="bootstrap"/> (a node that joined after the cluster was created) a new
    /// replica starts empty, in no configuration, until the shard's leader adds it and sends it a
    /// snapshot. Its rounds run on the thread that <paramref name="wake"/> wakes.
    /// </summary>
    public static ShardReplica Open(string directory, RaftLogEngine log, SqliteLinkStore links, ShardReplicaSettings settings, ConfState? bootstrap, ManualResetEventSlim wake, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        foreach (var old in new[] { Path.Combine(directory, "raft", "wal"), Path.Combine(directory, "links.db") })
        {
            if (Path.Exists(old))
            {
                throw new StorageException($"{old} holds a shard's Raft WAL or database of its own, written by a Shortener from before the node-wide log and database; this version cannot read it. Start this node with a new data dir (its shards catch up from the other replicas), or keep running the older version.");
            }
        }

        var disk = DurableRaftStorage.Open(log.Group((uint)settings.Shard), Path.Combine(directory, "raft", "snap"), background: settings.SnapshotWork);
        SqliteLinkStateMachine? state = null;
        try
        {
            if (bootstrap is not null && ReplicaDriver<BatchItemResult>.Bootstrap(disk, bootstrap))
            {
                logger.LogInformation("Shard {Shard}: bootstrapped with {Config}", settings.Shard, bootstrap);
            }

            state = new SqliteLinkStateMachine(links, settings.Shard);
            var machine = state;
            state.Restored = () => settings.Restored(machine);
            var applied = state.AppliedIndex;
            var replica = new ShardReplica(settings, disk, state, wake, logger);
            if (state.AppliedIndex != applied)
            {
                // Behind the stored snapshot: a crash mid-install, or a lost SQLite tail.
                logger.LogInformation("Shard {Shard}: state machine restored from the snapshot at index {Index}", settings.Shard, state.AppliedIndex);
            }

            return replica;
        }
        catch
        {
            state?.Dispose();
            disk.Dispose();
            throw;
        }
    }

    /// <summary>The shard's rows as this replica applied them and the node committed them.</summary>
    public ShardLinks Links => _state.Links;

    /// <summary>
    /// Proposes a command and waits until this replica applied it. The driver proposes it again
    /// under the same id while no leader takes it or after a change of leader; the state machine
    /// applies it once. Throws <see cref="ShardUnavailableException"/> when the deadline passes
    /// first: the command may or may not commit later (a retry with the same idempotency key is safe).
    /// </summary>
    public async Task<CommandResult> ProposeAsync(LinkCommandEnvelope envelope, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var proposal = new ShardEvent.Propose(LinkCommandCodec.Encode(envelope), outcome =>
        {
            if (!outcome.Applied)
            {
                completion.TrySetException(new ShardUnavailableException(Shard, outcome.Failure!, outcome.MayHaveApplied));
            }
            else if (outcome.Result?.Result is { } result)
            {
                completion.TrySetResult(result);
            }
            else
            {
                completion.TrySetException(outcome.Result?.Error is { } error
                    ? new StorageException($"applying the command failed: {error.Message}", error)
                    : new StorageException("applying the command failed the first time it was proposed"));
            }
        });
        Post(proposal);

        try
        {
            return await completion.Task.WaitAsync(_settings.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The driver did not answer in time (its ticks lag, or the node's Raft is paused).
            Post(new ShardEvent.Withdraw(proposal));
            throw ShardUnavailableException.TimedOut(Shard, _settings.RequestTimeout, mayHaveApplied: true);
        }
        catch (OperationCanceledException)
        {
            Post(new ShardEvent.Withdraw(proposal));
            throw;
        }
    }

    /// <summary>
    /// Waits until reading this replica's state is linearizable: the leader confirmed its
    /// leadership with a quorum (ReadIndex) and this replica applied up to the index it named.
    /// </summary>
    public async Task WaitLinearizableAsync(CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new ShardEvent.Read(outcome =>
        {
            if (outcome.Ok)
            {
                completion.TrySetResult();
            }
            else
            {
                completion.TrySetException(new ShardUnavailableException(Shard, outcome.Failure!, mayHaveApplied: false));
            }
        }));

        try
        {
            await completion.Task.WaitAsync(_settings.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw ShardUnavailableException.TimedOut(Shard, _settings.RequestTimeout, mayHaveApplied: false);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the driver's thread, with the engine, and returns its result.</summary>
    public Task<T> OnLoopAsync<T>(Func<RaftNode, T> action)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new ShardEvent.Run(
            node =>
            {
                try
                {
                    completion.TrySetResult(action(node));
                }
                catch (Exception e)
                {
                    completion.TrySetException(e);
                }
            },
            e => completion.TrySetException(e)));
        return completion.Task;
    }

    public void Tick() => Post(ShardEvent.Tick.Instance);

    public void Deliver(RaftMessage message) => Post(new ShardEvent.Inbound(message));

    public void ReportUnreachable(ulong peer) => Post(new ShardEvent.Run(node => node.ReportUnreachable(peer), null));

    /// <summary>Stops taking events and answers every waiting request. The driver thread must have stopped.</summary>
    public ValueTask DisposeAsync()
    {
        _inbox.Complete();
        var stopping = new ShardUnavailableException(Shard, "the node is shutting down", mayHaveApplied: false);
        while (_inbox.TryRead(out var left))
        {
            Refuse(left, stopping);
        }

        _driver.Shutdown("the node is shutting down");
        _state.Dispose();
        _disk.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The first half of a round on the driver thread: the queued events, then the driver's own
    /// first half (its Ready queued in the node's log, not yet written).
    /// </summary>
    internal RoundStart BeginRound()
    {
        for (var handled = 0; handled < MaxEventsPerRound && _inbox.TryRead(out var e); handled++)
        {
            Handle(e);
        }

        return _driver.BeginRound();
    }

    /// <summary>
    /// Between the halves, for a round that must be durable: the node log's write and fsync, which
    /// carries every replica's records queued this round (the first replica to call it does the
    /// work; for the others it returns at once, or throws if that write failed).
    /// </summary>
    internal void Sync()
    {
        try
        {
            _disk.Sync();
        }
        catch (Exception e)
        {
            _driver.Abort(e);
        }
    }

    /// <summary>
    /// The node's database lost what this replica applied since its last commit: the replica stops
    /// rather than apply past a gap (a restart replays the log from the index the database holds).
    /// </summary>
    internal void Stop(Exception error) => _driver.Abort(error);

    /// <summary>The second half, once the log is durable: the driver sends, applies and advances; snapshot work goes to the pool.</summary>
    internal void EndRound()
    {
        _driver.EndRound();
        NoteFreshness();
        _status = _driver.Status;
        if (_driver.TakeSnapshotWork() is { } work)
        {
            _settings.SnapshotWork(() =>
            {
                ShardEvent.SnapshotCaptured done;
                try
                {
                    done = new ShardEvent.SnapshotCaptured(work(), null);
                }
                catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or ObjectDisposedException)
                {
                    done = new ShardEvent.SnapshotCaptured(null, e.Message);
                }

                Post(done);
            });
        }
    }

    private void Handle(ShardEvent e)
    {
        if (_driver.Failure is { } failure)
        {
            // A stopped driver answers proposals and reads itself; other work will never run.
            if (e is ShardEvent.Run { Fail: { } fail })
            {
                fail(new ShardUnavailableException(Shard, $"this node's replica of the shard stopped: {failure.Message}", mayHaveApplied: false));
                return;
            }
        }

        var paused = _settings.Paused();
        switch (e)
        {
            case ShardEvent.Tick when !paused:
                Volatile.Write(ref _lastTickAtMs, NowMs());
                _driver.Tick();
                NoteFreshness();
                if (_driver.Raft.Role == RaftRole.Leader && _driver.Ticks % (ulong)_settings.ReconcileTicks == 0)
                {
                    Reconcile();
                }

                break;
            case ShardEvent.Inbound inbound when !paused:
                _driver.Step(inbound.Message);
                break;
            case ShardEvent.Propose p:
                if (paused)
                {
                    p.Done(ProposalOutcome<BatchItemResult>.Failed("this node's Raft processing is paused", mayHaveApplied: false));
                    return;
                }

                p.Id = _driver.Propose(p.Payload, p.Done);
                break;
            case ShardEvent.Withdraw { Proposal.Id: { } id }:
                _driver.Withdraw(id);
                break;
            case ShardEvent.Read r:
                if (paused)
                {
                    r.Done(ReadOutcome.Failed("this node's Raft processing is paused"));
                    return;
                }

                _driver.Read(r.Done);
                break;
            case ShardEvent.Run run:
                _driver.Request(node =>
                {
                    run.Action(node);
                    return 0;
                });
                break;
            case ShardEvent.SnapshotCaptured { Snapshot: { } snapshot }:
                _driver.SnapshotCaptured(snapshot);
                break;
            case ShardEvent.SnapshotCaptured { Error: var error }:
                _driver.SnapshotFailed(error ?? "unknown error");
                break;
        }
    }

    /// <summary>The leader's step toward the shard's placement over the current members, if one is due.</summary>
    private void Reconcile()
    {
        var node = _driver.Raft;
        if (_settings.Target() is not { } target || node.LeadTransferee != RaftNode.None)
        {
            return;
        }

        var status = node.Status(describeProgress: false);
        var step = ShardReconciler.Next(status.Config, target, _settings.NodeId, status.Match, node.RecentlyAcked(), status.LastIndex, _settings.PromoteMaxLag);
        if (step.TransferTo != 0)
        {
            _logger.LogInformation("Shard {Shard}: membership: {Step}", Shard, step.Description);
            _driver.Request(n =>
            {
                n.TransferLeadership(step.TransferTo);
                return 0;
            });
            _settings.MembershipStep(step.Kind);
        }
        else if (step.ConfChange is { } change)
        {
            var result = _driver.Request(n => n.ProposeConfChange(change));
            if (result?.Accepted == true)
            {
                _logger.LogInformation("Shard {Shard}: membership: proposed to {Step}", Shard, step.Description);
                _settings.MembershipStep(step.Kind);
            }
            else
            {
                _logger.LogDebug("Shard {Shard}: membership: could not yet {Step}: {Reason}", Shard, step.Description, result?.Reason);
            }
        }
    }

    private void Post(ShardEvent e)
    {
        if (!_inbox.TryWrite(e))
        {
            Refuse(e, new ShardUnavailableException(Shard, "the node is shutting down", mayHaveApplied: false));
        }
    }

    private static void Refuse(ShardEvent e, ShardUnavailableException error)
    {
        switch (e)
        {
            case ShardEvent.Propose p:
                p.Done(ProposalOutcome<BatchItemResult>.Failed(error.Reason, mayHaveApplied: false));
                break;
            case ShardEvent.Read r:
                r.Done(ReadOutcome.Failed(error.Reason));
                break;
            case ShardEvent.Run { Fail: { } fail }:
                fail(error);
                break;
        }
    }

    /// <summary>
    /// Turns the driver's freshness, counted in ticks, into wall time: ticks arrive late on a loaded
    /// node, and an age counted in ticks would then say the replica is fresher than it is. Fresh as
    /// of the current tick means fresh since that tick began.
    /// </summary>
    private void NoteFreshness()
    {
        var fresh = _driver.FreshAtTick;
        if (fresh != _freshAtTick)
        {
            _freshAtTick = fresh;
            Volatile.Write(ref _freshAtMs, fresh == _driver.Ticks ? Volatile.Read(ref _lastTickAtMs) : NowMs());
        }
    }

    private long NowMs() => _settings.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The driver's events, logged with the shard they happened in; role changes are journaled too.</summary>
    private sealed class ReplicaLog(int shard, ILogger logger, NodeJournal? journal) : IReplicaObserver
    {
        public void RoleChanged(RaftRole role, ulong term, ulong leader)
        {
            logger.LogInformation("Shard {Shard}: this node is {Role} in term {Term}; leader {Leader}", shard, role, term, leader);
            journal?.Record(JournalKind.RoleChanged, $"{role.ToString().ToLowerInvariant()}; leader {leader}", shard, term);
        }

        public void MembershipApplied(ulong index, ConfState configuration) =>
            logger.LogInformation("Shard {Shard}: membership is now {Config} (index {Index})", shard, configuration, index);

        public void SnapshotInstalled(SnapshotMetadata metadata, int bytes) =>
            logger.LogInformation("Shard {Shard}: installed a snapshot at index {Index} (term {Term}, {Bytes} bytes)", shard, metadata.Index, metadata.Term, bytes);

        public void Compacted(ulong index, int bytes) =>
            logger.LogInformation("Shard {Shard}: snapshot at index {Index} ({Bytes} bytes); log compacted", shard, index, bytes);

        public void SnapshotFailed(string reason) =>
            logger.LogWarning("Shard {Shard}: taking a snapshot failed; will try again: {Error}", shard, reason);

        // A failed fsync or apply leaves memory and disk out of step: the only safe move is to stop
        // this replica (the node keeps serving the other shards and local reads).
        public void Stopped(Exception error) =>
            logger.LogCritical(error, "Shard {Shard}: replica stopped after an unrecoverable error", shard);
    }
}
