using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Shortener.Core;
using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Storage;
using Shortener.Storage.Links;
using Shortener.Storage.Raft;

namespace Shortener.Node.Cluster;

/// <summary>
/// This node's replica of one link shard: the Raft driver. One loop owns the <see cref="RaftNode"/>
/// and follows the Ready contract: persist (WAL, fsync) → send → apply committed entries to the
/// shard's SQLite state machine (with the applied index in the same transaction) → advance. Callers
/// on other threads talk to it through its inbox: proposals, linearizable reads, ticks, messages.
/// The loop is the replica's own thread, or the node's shared driver
/// (<see cref="ShardReplicaSettings.SharedDriver"/>), which runs the rounds of every shard together:
/// <see cref="BeginRound"/> for each, one fsync per WAL, <see cref="EndRound"/> for each.
/// </summary>
public sealed class ShardReplica : IAsyncDisposable
{
    private const int MaxEventsPerRound = 4096;

    private readonly ShardReplicaSettings _settings;
    private readonly DurableRaftStorage _storage;
    private readonly RaftNode _node;
    private readonly ShardInbox _inbox;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<CommandResult>> _proposals = new();
    private readonly List<TaskCompletionSource> _readBatch = [];
    private readonly Dictionary<ulong, (ulong IssuedAtTick, List<TaskCompletionSource> Waiters)> _readsAwaitingIndex = [];
    private readonly List<(ulong Index, List<TaskCompletionSource> Waiters)> _readsAwaitingApply = [];
    private readonly ILogger _logger;
    private readonly Task _loop;
    private volatile SqliteLinkStore _store;
    private volatile ShardStatus _status;
    private ulong _storeApplied;
    private ulong _lastSnapshotIndex;
    private ulong _nextReadId;
    private ulong _ticks;
    private ulong _leaderCommitSeen;
    private long _leaderContactAtMs;
    private long _freshAtMs;
    private HardState _persisted;
    private bool _compacting;
    private bool _stopped;
    private bool _sentFirst;
    private bool _roundActive;

    /// <summary>Membership after each change applied since the last snapshot (for snapshots taken off the loop).</summary>
    private readonly List<(ulong Index, ConfState Conf)> _confHistory = [];

    private ShardReplica(ShardReplicaSettings settings, DurableRaftStorage storage, SqliteLinkStore store, ulong applied, ILogger logger)
    {
        _settings = settings;
        _inbox = new ShardInbox(settings.SharedDriver);
        _storage = storage;
        _store = store;
        _storeApplied = applied;
        _lastSnapshotIndex = storage.Memory.Snapshot().Metadata.Index;
        _persisted = storage.Memory.InitialState().HardState;
        _logger = logger;
        _freshAtMs = settings.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _node = new RaftNode(
            new RaftConfig
            {
                Id = settings.NodeId,
                ElectionTick = settings.ElectionTicks,
                HeartbeatTick = settings.HeartbeatTicks,
                Applied = applied,
                Random = new SeededRandom(BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))),
                PreVote = true,
                CheckQuorum = true,
            },
            storage.Memory);
        _status = BuildStatus();
        _confHistory.Add((applied, _node.ConfState));

        // The only voter of a shard needs no election timeout to know it wins.
        var conf = _node.ConfState;
        if (conf.Voters.Count == 1 && conf.Voters[0] == settings.NodeId && !conf.IsJoint)
        {
            _node.Campaign();
        }

        // A thread of its own: the loop blocks in fsync and SQLite, which on pool threads would
        // starve the requests waiting for it. (Unless a node-wide driver runs this replica.)
        _loop = settings.SharedDriver is null
            ? Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.CompletedTask;
    }

    public int Shard => _settings.Shard;

    /// <summary>The shard's state machine as this replica has applied it (for local reads).</summary>
    public SqliteLinkStore Store => _store;

    /// <summary>The latest status, refreshed after every round of the loop.</summary>
    public ShardStatus Status => _status;

    /// <summary>
    /// Milliseconds since this replica last knew it had applied everything its leader had committed
    /// (about 0 on a leader; counted from the replica's start until it first hears from one).
    /// </summary>
    public long AppliedAgeMs => Math.Max(0, _settings.Time.GetUtcNow().ToUnixTimeMilliseconds() - Volatile.Read(ref _freshAtMs));

    /// <summary>
    /// Opens (or, on first start, bootstraps) the replica in <paramref name="directory"/>: the Raft
    /// WAL and snapshots under raft/, the state machine in links.db. A state machine behind the
    /// stored snapshot (a crash mid-install, or a lost SQLite tail) is restored from it first.
    /// Without <paramref name="bootstrap"/> (a node that joined after the cluster was created) a new
    /// replica starts empty, in no configuration, until the shard's leader adds it and sends it a snapshot.
    /// </summary>
    public static ShardReplica Open(string directory, ShardReplicaSettings settings, ConfState? bootstrap, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var storage = DurableRaftStorage.Open(Path.Combine(directory, "raft"));
        SqliteLinkStore? store = null;
        try
        {
            if (bootstrap is not null && storage.Memory.Snapshot().IsEmpty && storage.Memory.LastIndex == 0 && storage.Recovered.HardState.IsEmpty)
            {
                // Every node writes the same first entry of the log: the shard's initial membership
                // as a snapshot at index 1, term 1. They agree on it without talking.
                storage.Persist(new Ready
                {
                    Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, bootstrap), []),
                    HardState = new HardState(1, 0, 1),
                    MustSync = true,
                });
                logger.LogInformation("Shard {Shard}: bootstrapped with {Config}", settings.Shard, bootstrap);
            }

            var dbPath = Path.Combine(directory, "links.db");
            store = SqliteLinkStore.Open(dbPath, synchronousFull: false);
            var snapshot = storage.Memory.Snapshot();
            var applied = store.AppliedIndex;
            if (snapshot.Metadata.Index > applied)
            {
                store.Dispose();
                store = null;
                store = Restore(dbPath, snapshot);
                applied = snapshot.Metadata.Index;
                logger.LogInformation("Shard {Shard}: state machine restored from the snapshot at index {Index}", settings.Shard, applied);
            }

            return new ShardReplica(settings, storage, store, applied, logger);
        }
        catch
        {
            store?.Dispose();
            storage.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Proposes a command and waits until this replica applied it. While the shard has no leader it
    /// retries; when the leader or term changes before the command applied (a forwarded proposal
    /// can die with a leader), or after <see cref="ShardReplicaSettings.ReproposeInterval"/>, it
    /// proposes the same command again under the same id, which the state machine applies at most
    /// once. Throws <see cref="ShardUnavailableException"/> when the deadline passes first: the
    /// command may or may not commit later (a retry with the same idempotency key is safe).
    /// </summary>
    public async Task<CommandResult> ProposeAsync(LinkCommandEnvelope envelope, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.RequestTimeout);
        var id = _settings.NextProposalId();
        var completion = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _proposals[id] = completion;
        var data = new ShardProposal(_settings.Proposer, id, envelope).Encode();
        var appended = false;
        TaskCompletionSource? attempt = null;
        try
        {
            while (true)
            {
                attempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var (term, leader) = (_status.Term, _status.Leader);
                var posted = DateTime.UtcNow;
                Post(new ShardEvent.Propose(data, attempt));
                try
                {
                    // Refusals arrive on the attempt; results on the proposal's completion.
                    await Task.WhenAny(attempt.Task, completion.Task).WaitAsync(deadline.Token).ConfigureAwait(false);
                    if (attempt.Task.IsFaulted && !completion.Task.IsCompleted)
                    {
                        await attempt.Task.ConfigureAwait(false);
                    }

                    appended = true;
                    while (!completion.Task.IsCompleted)
                    {
                        await Task.WhenAny(completion.Task, Task.Delay(_settings.RetryDelay, deadline.Token)).ConfigureAwait(false);
                        deadline.Token.ThrowIfCancellationRequested();
                        var status = _status;
                        if (status.Term != term || status.Leader != leader || DateTime.UtcNow - posted > _settings.ReproposeInterval)
                        {
                            break;
                        }
                    }

                    if (completion.Task.IsCompleted)
                    {
                        return await completion.Task.ConfigureAwait(false);
                    }
                }
                catch (ShardUnavailableException e) when (e.Retryable && !deadline.IsCancellationRequested)
                {
                    // This attempt was refused before anything was appended: no leader yet, or one
                    // busy handing over. (An earlier attempt may have been: appended stays.)
                    await DelayOrGiveUp(deadline, cancellationToken, appended).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // An attempt still waiting in the inbox will be proposed after this answer.
            throw ShardUnavailableException.TimedOut(Shard, _settings.RequestTimeout, mayHaveApplied: appended || attempt is { Task.IsCompleted: false });
        }
        catch (ShardUnavailableException e) when (appended && !e.MayHaveApplied)
        {
            throw new ShardUnavailableException(Shard, e.Reason, retryable: false, mayHaveApplied: true);
        }
        finally
        {
            _proposals.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Waits until reading this replica's state is linearizable: the leader confirmed its
    /// leadership with a quorum (ReadIndex) and this replica applied up to the index it named.
    /// </summary>
    public async Task WaitLinearizableAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.RequestTimeout);
        while (true)
        {
            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Post(new ShardEvent.Read(completion));
            try
            {
                await completion.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                return;
            }
            catch (ShardUnavailableException e) when (e.Retryable && !deadline.IsCancellationRequested)
            {
                await DelayOrGiveUp(deadline, cancellationToken, mayHaveApplied: false).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw ShardUnavailableException.TimedOut(Shard, _settings.RequestTimeout, mayHaveApplied: false);
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> on the loop, with the engine, and returns its result.</summary>
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

    public async ValueTask DisposeAsync()
    {
        _inbox.Complete();
        await _loop.ConfigureAwait(false);
        var stopping = new ShardUnavailableException(Shard, "the node is shutting down", retryable: false);
        foreach (var pending in _proposals.Values)
        {
            // It may have reached the leader already.
            pending.TrySetException(new ShardUnavailableException(Shard, stopping.Reason, retryable: false, mayHaveApplied: true));
        }

        // Whatever raced in behind the last round is answered, not left hanging.
        while (_inbox.TryRead(out var left))
        {
            Refuse(left, stopping);
        }

        _inbox.Dispose();

        _store.Dispose();
        _storage.Dispose();
    }

    /// <summary>
    /// Replaces the (closed) database at <paramref name="dbPath"/> with <paramref name="snapshot"/>,
    /// staged beforehand when <paramref name="staged"/> is given, and opens it.
    /// </summary>
    private static SqliteLinkStore Restore(string dbPath, RaftSnapshot snapshot, string? staged = null)
    {
        if (snapshot.Data.Length == 0)
        {
            // The bootstrap snapshot: an empty state machine.
            File.Delete(dbPath);
            File.Delete(dbPath + "-wal");
            File.Delete(dbPath + "-shm");
        }
        else
        {
            SqliteLinkStore.SwapInSnapshot(dbPath, staged ?? SqliteLinkStore.StageSnapshot(dbPath, snapshot.Data));
        }

        var store = SqliteLinkStore.Open(dbPath, synchronousFull: false, check: false);
        if (store.AppliedIndex != snapshot.Metadata.Index)
        {
            store.ApplyBatch([], snapshot.Metadata.Index);
        }

        return store;
    }

    private async Task DelayOrGiveUp(CancellationTokenSource deadline, CancellationToken caller, bool mayHaveApplied)
    {
        try
        {
            await Task.Delay(_settings.RetryDelay, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw ShardUnavailableException.TimedOut(Shard, _settings.RequestTimeout, mayHaveApplied);
        }
    }

    private void Post(ShardEvent e)
    {
        if (!_inbox.TryWrite(e))
        {
            Refuse(e, new ShardUnavailableException(Shard, "the node is shutting down", retryable: false));
        }
    }

    private static void Refuse(ShardEvent e, Exception error)
    {
        switch (e)
        {
            case ShardEvent.Propose p:
                p.Accepted.TrySetException(error);
                break;
            case ShardEvent.Read r:
                r.Completion.TrySetException(error);
                break;
            case ShardEvent.Run { Fail: { } fail }:
                fail(error);
                break;
        }
    }

    /// <summary>This replica's own loop (without a shared driver): the same rounds, one fsync each.</summary>
    private void Run()
    {
        Thread.CurrentThread.Name = $"shard-{Shard}";
        while (!_stopped && _inbox.WaitToRead())
        {
            do
            {
                var ready = BeginRound();
                if (ready is { MustSync: true })
                {
                    FlushWal();
                }

                EndRound(ready);
            }
            while (HasWork);
        }
    }

    /// <summary>Whether a round would do anything: events queued, or a Ready from the engine.</summary>
    internal bool HasWork => !_stopped && (!_inbox.IsEmpty || _node.HasReady);

    /// <summary>
    /// The first half of a round (on the replica's own loop, or the node's shared driver): the
    /// queued events, the reads, and the next Ready written to the WAL, not yet fsynced. Returns
    /// that Ready, or null.
    /// </summary>
    internal Ready? BeginRound()
    {
        if (_stopped)
        {
            return null;
        }

        try
        {
            var handled = 0;
            for (; handled < MaxEventsPerRound && _inbox.TryRead(out var e); handled++)
            {
                Handle(e);
            }

            IssueReads();
            _roundActive = handled > 0;
            if (!_node.HasReady)
            {
                return null;
            }

            _roundActive = true;

            var ready = _node.GetReady();
            _sentFirst = BeginReady(ready);
            return ready;
        }
        catch (Exception e)
        {
            Fail(e);
            return null;
        }
    }

    /// <summary>Between the halves: the fsync of this replica's WAL, for a Ready that needs one.</summary>
    internal void FlushWal()
    {
        if (_stopped)
        {
            return;
        }

        try
        {
            _storage.Wal.FlushToDisk();
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    /// <summary>The second half, once the WAL is durable: send, apply, advance; then compaction and status.</summary>
    internal void EndRound(Ready? ready)
    {
        if (_stopped)
        {
            return;
        }

        try
        {
            if (ready is not null)
            {
                EndReady(ready, _sentFirst);
            }

            if (_roundActive)
            {
                // An idle replica's round (the driver runs every shard's) changes nothing to report.
                MaybeCompact();
                _status = BuildStatus();
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        // A failed fsync or apply leaves memory and disk out of step: the only safe move is
        // to stop this replica (the node keeps serving the other shards and local reads).
        _logger.LogCritical(e, "Shard {Shard}: replica stopped after an unrecoverable error", Shard);
        _stopped = true;
        _inbox.Complete();
        FailAll(new ShardUnavailableException(Shard, "this node's replica of the shard failed; see the node's log", retryable: false, mayHaveApplied: true));
        _status = _status with { Failed = true };
    }

    private void Handle(ShardEvent e)
    {
        switch (e)
        {
            case ShardEvent.Tick:
                if (_settings.Paused())
                {
                    return;
                }

                _ticks++;
                _node.Tick();
                if (_node.Role == RaftRole.Leader)
                {
                    Volatile.Write(ref _freshAtMs, NowMs());
                    if (_ticks % (ulong)_settings.ReconcileTicks == 0)
                    {
                        Reconcile();
                    }
                }

                ExpireReads();
                break;
            case ShardEvent.Inbound { Message: var m }:
                if (_settings.Paused())
                {
                    return;
                }

                if (m.Type is MessageType.Append or MessageType.Heartbeat && m.Term >= _node.Term)
                {
                    // A heartbeat's Index is the leader's own commit index (its Commit is capped
                    // at what this replica is known to have, which says nothing about lag).
                    _leaderCommitSeen = Math.Max(_leaderCommitSeen, m.Type == MessageType.Heartbeat ? m.Index : m.Commit);
                    _leaderContactAtMs = NowMs();
                }

                _node.Step(m);
                break;
            case ShardEvent.Propose p:
                if (_settings.Paused())
                {
                    p.Accepted.TrySetException(new ShardUnavailableException(Shard, "this node's Raft processing is paused", retryable: true));
                    return;
                }

                var result = _node.Propose(p.Data);
                if (result.Accepted)
                {
                    p.Accepted.TrySetResult();
                }

                if (!result.Accepted)
                {
                    var why = result.Status == ProposalStatus.NotLeader ? "the shard has no leader this node can reach" : $"the leader refused the proposal ({result.Reason})";
                    p.Accepted.TrySetException(new ShardUnavailableException(Shard, why, retryable: true));
                }

                break;
            case ShardEvent.Read r:
                _readBatch.Add(r.Completion);
                break;
            case ShardEvent.Run run:
                run.Action(_node);
                break;
        }
    }

    /// <summary>The leader's step toward the shard's placement over the current members, if one is due.</summary>
    private void Reconcile()
    {
        if (_settings.Target() is not { } target || _node.LeadTransferee != RaftNode.None)
        {
            return;
        }

        var status = _node.Status(describeProgress: false);
        var step = ShardReconciler.Next(status.Config, target, _settings.NodeId, status.Match, _node.RecentlyAcked(), status.LastIndex, _settings.PromoteMaxLag);
        if (step.TransferTo != 0)
        {
            _logger.LogInformation("Shard {Shard}: membership: {Step}", Shard, step.Description);
            _node.TransferLeadership(step.TransferTo);
            _settings.MembershipStep(step.Kind);
        }
        else if (step.ConfChange is { } change)
        {
            var result = _node.ProposeConfChange(change);
            if (result.Accepted)
            {
                _logger.LogInformation("Shard {Shard}: membership: proposed to {Step}", Shard, step.Description);
                _settings.MembershipStep(step.Kind);
            }
            else
            {
                _logger.LogDebug("Shard {Shard}: membership: could not yet {Step}: {Reason}", Shard, step.Description, result.Reason);
            }
        }
    }

    /// <summary>One ReadIndex request for every read that arrived in this round (as etcd batches them).</summary>
    private void IssueReads()
    {
        if (_readBatch.Count == 0)
        {
            return;
        }

        var waiters = new List<TaskCompletionSource>(_readBatch);
        _readBatch.Clear();
        if (_settings.Paused() || _node.Lead == RaftNode.None)
        {
            var error = new ShardUnavailableException(Shard, "the shard has no leader this node can reach", retryable: true);
            waiters.ForEach(w => w.TrySetException(error));
            return;
        }

        // The process's proposer number goes in too: an answer to a read asked before a restart
        // must not match a new read that reuses its counter.
        var id = ++_nextReadId;
        var context = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(context, _settings.Proposer);
        BinaryPrimitives.WriteUInt64LittleEndian(context.AsSpan(8), id);
        _readsAwaitingIndex[id] = (_ticks, waiters);
        _node.ReadIndex(context);
    }

    /// <summary>A ReadIndex request whose answer was lost (leader change, dropped message) is failed after two election timeouts, to be retried.</summary>
    private void ExpireReads()
    {
        foreach (var (id, (issued, waiters)) in _readsAwaitingIndex.ToList())
        {
            if (_ticks - issued > (ulong)(2 * _settings.ElectionTicks))
            {
                _readsAwaitingIndex.Remove(id);
                var error = new ShardUnavailableException(Shard, "the leader did not confirm the read", retryable: true);
                waiters.ForEach(w => w.TrySetException(error));
            }
        }
    }

    /// <summary>Sends what may go before the fsync and writes the Ready to the WAL; returns whether the messages went.</summary>
    private bool BeginReady(Ready ready)
    {
        // A leader may send its appends before its own fsync (it counts itself only once Advance
        // says the entries are durable), so followers write in parallel with it, as in etcd. Not
        // when the Ready changes term or vote: a vote must be on disk before anyone hears of it.
        var sendFirst = _node.Role == RaftRole.Leader && ready.Snapshot is null
            && (ready.HardState.IsEmpty || (ready.HardState.Term == _persisted.Term && ready.HardState.Vote == _persisted.Vote));
        if (sendFirst)
        {
            Send(ready.Messages);
        }

        _storage.Write(ready);
        return sendFirst;
    }

    /// <summary>After the fsync: the rest of the Ready contract.</summary>
    private void EndReady(Ready ready, bool sendFirst)
    {
        _storage.Publish(ready);
        if (!ready.HardState.IsEmpty)
        {
            _persisted = ready.HardState;
        }

        if (!sendFirst)
        {
            Send(ready.Messages);
        }

        if (ready.Snapshot is { } snapshot)
        {
            InstallSnapshot(snapshot);
        }

        Apply(ready.CommittedEntries);
        foreach (var rs in ready.ReadStates)
        {
            if (rs.RequestContext.Length == 16
                && BinaryPrimitives.ReadUInt64LittleEndian(rs.RequestContext) == _settings.Proposer
                && _readsAwaitingIndex.Remove(BinaryPrimitives.ReadUInt64LittleEndian(rs.RequestContext.AsSpan(8)), out var pending))
            {
                _readsAwaitingApply.Add((rs.Index, pending.Waiters));
            }
        }

        _node.Advance(ready);
        CompleteReads();
        // A Ready carries a soft state only when the leader or role changed.
        if (ready.SoftState is { } soft)
        {
            _logger.LogInformation("Shard {Shard}: this node is {Role} in term {Term}; leader {Leader}", Shard, soft.Role, _node.Term, soft.Lead);
        }

        if (_node.Role != RaftRole.Leader && _storeApplied >= _leaderCommitSeen && _leaderContactAtMs > 0)
        {
            Volatile.Write(ref _freshAtMs, _leaderContactAtMs);
        }
    }

    private void Send(IReadOnlyList<RaftMessage> messages)
    {
        foreach (var m in messages)
        {
            _settings.Send(Shard, m);
        }
    }

    private void InstallSnapshot(RaftSnapshot snapshot)
    {
        // The slow part (writing and fsyncing the snapshot) happens while the old state still
        // serves reads; they then wait only for the close, rename and open.
        var path = _store.Path;
        var staged = snapshot.Data.Length == 0 ? null : SqliteLinkStore.StageSnapshot(path, snapshot.Data);
        _store.Dispose();
        _store = Restore(path, snapshot, staged);
        _storeApplied = snapshot.Metadata.Index;
        _lastSnapshotIndex = snapshot.Metadata.Index;
        _confHistory.Clear();
        _confHistory.Add((snapshot.Metadata.Index, snapshot.Metadata.ConfState));
        _settings.Restored(Shard);
        _logger.LogInformation("Shard {Shard}: installed a snapshot at index {Index} (term {Term}, {Bytes} bytes)", Shard, snapshot.Metadata.Index, snapshot.Metadata.Term, snapshot.Data.Length);
    }

    private void Apply(IReadOnlyList<RaftEntry> entries)
    {
        if (entries.Count == 0 || entries[^1].Index <= _storeApplied)
        {
            return;
        }

        var envelopes = new List<LinkCommandEnvelope>(entries.Count);
        var owners = new List<(ulong Proposer, ulong Id)>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Type == EntryType.ConfChange)
            {
                // The engine learns membership only here, even where the database is already past
                // this entry (it kept a later apply than the Raft hard state recorded).
                var conf = _node.ApplyConfChange(ConfChange.Decode(entry.Data));
                _confHistory.Add((entry.Index, conf));
                _logger.LogInformation("Shard {Shard}: membership is now {Config} (index {Index})", Shard, conf, entry.Index);
                continue;
            }

            if (entry.Index <= _storeApplied || entry.Data.Length == 0)
            {
                continue;
            }

            ShardProposal proposal;
            try
            {
                proposal = ShardProposal.Decode(entry.Data);
            }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
            {
                // A command this version cannot read (a newer node wrote it?): skipping it here while
                // others apply it would split the replicas, so this replica stops instead.
                throw new InvalidDataException($"shard {Shard}: entry {entry.Index} is not a link command this version can apply: {e.Message}", e);
            }

            envelopes.Add(proposal.Envelope);
            owners.Add((proposal.Proposer, proposal.Id));
        }

        var last = entries[^1].Index;
        var results = _store.ApplyBatch(envelopes, last, owners);
        _storeApplied = last;
        _settings.Applied(Shard, envelopes, results);
        for (var i = 0; i < owners.Count; i++)
        {
            // A duplicate carries the first copy's result: the proposer may have missed the first
            // copy (it arrived inside a snapshot) and waits for the re-proposal.
            if (owners[i].Proposer != _settings.Proposer || !_proposals.TryGetValue(owners[i].Id, out var waiter))
            {
                continue;
            }

            if (results[i].Result is { } result)
            {
                waiter.TrySetResult(result);
            }
            else
            {
                waiter.TrySetException(results[i].Error is { } error
                    ? new StorageException($"applying the command failed: {error.Message}", error)
                    : new StorageException("applying the command failed the first time it was proposed"));
            }
        }
    }

    private void CompleteReads()
    {
        for (var i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            if (_readsAwaitingApply[i].Index <= _storeApplied)
            {
                _readsAwaitingApply[i].Waiters.ForEach(w => w.TrySetResult());
                _readsAwaitingApply.RemoveAt(i);
            }
        }
    }

    /// <summary>
    /// Every <see cref="ShardReplicaSettings.SnapshotEntries"/> applied entries, copies the database
    /// off the loop (the loop keeps applying and heartbeating meanwhile), then compacts the log up to
    /// the index the copy holds, on the loop.
    /// </summary>
    private void MaybeCompact()
    {
        if (_compacting || _storeApplied - _lastSnapshotIndex < (ulong)_settings.SnapshotEntries)
        {
            return;
        }

        _compacting = true;
        var store = _store;
        _ = Task.Run(() =>
        {
            (ulong Index, byte[] Data)? export = null;
            try
            {
                export = store.ExportSnapshot();
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or ObjectDisposedException)
            {
                _logger.LogWarning("Shard {Shard}: taking a snapshot failed; will try again: {Error}", Shard, e.Message);
            }

            Post(new ShardEvent.Run(_ => FinishCompaction(export), null));
        });
    }

    private void FinishCompaction((ulong Index, byte[] Data)? export)
    {
        _compacting = false;

        // A snapshot installed meanwhile (the copy was of the replaced store) overtakes this one.
        if (export is not { } copy || copy.Index <= _lastSnapshotIndex || copy.Index > _node.Applied)
        {
            return;
        }

        var conf = ConfAt(copy.Index);
        _storage.Compact(copy.Index, conf, copy.Data, (ulong)_settings.SnapshotKeepEntries);
        _lastSnapshotIndex = copy.Index;
        _confHistory.RemoveAll(c => c.Index <= copy.Index);
        _confHistory.Insert(0, (copy.Index, conf));
        _logger.LogInformation("Shard {Shard}: snapshot at index {Index} ({Bytes} bytes); log compacted", Shard, copy.Index, copy.Data.Length);
    }

    /// <summary>The membership in force once entry <paramref name="index"/> was applied.</summary>
    private ConfState ConfAt(ulong index)
    {
        for (var i = _confHistory.Count - 1; i >= 0; i--)
        {
            if (_confHistory[i].Index <= index)
            {
                return _confHistory[i].Conf;
            }
        }

        return _node.ConfState;
    }

    private void FailAll(Exception error)
    {
        foreach (var pending in _proposals.Values)
        {
            pending.TrySetException(error);
        }

        _readBatch.ForEach(w => w.TrySetException(error));
        foreach (var (_, waiters) in _readsAwaitingIndex.Values)
        {
            waiters.ForEach(w => w.TrySetException(error));
        }

        foreach (var (_, waiters) in _readsAwaitingApply)
        {
            waiters.ForEach(w => w.TrySetException(error));
        }
    }

    private ShardStatus BuildStatus()
    {
        var status = _node.Status(describeProgress: false);
        return new ShardStatus(
            Shard,
            status.Role,
            status.Term,
            status.Lead,
            status.Commit,
            _storeApplied,
            status.LastIndex,
            _lastSnapshotIndex,
            status.Config,
            status.Match,
            Failed: false);
    }

    private long NowMs() => _settings.Time.GetUtcNow().ToUnixTimeMilliseconds();
}
