using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// One replica of a Raft group: the loop around the engine, and the only one in the code base.
/// Production runs it on a thread over the real WAL and SQLite, the simulator over a simulated disk
/// and network, tests and benchmarks pump it directly. Deterministic: time is ticks, and the disk,
/// the state machine and the network are interfaces.
///
/// A round follows the Ready contract in two halves, so that a host of many replicas can write
/// all their Readys, make them durable with one pass of fsyncs, then finish each:
/// <see cref="BeginRound"/> takes the engine's Ready, sends what may go before the fsync (a
/// leader's appends, <see cref="ReplicaOptions.LeaderSendsBeforeFsync"/>) and writes the records;
/// the host syncs the disk when told to; <see cref="EndRound"/> publishes the records to the
/// engine's log, sends the rest, installs a snapshot, applies committed entries and answers their
/// proposers, hands out read points, and advances the engine. <see cref="RunRound"/> does all three.
///
/// Around the rounds it owns what is not I/O: proposals with ids, proposed again after a change of
/// leader (the state machine applies a copy once) and failed at their deadline; linearizable reads,
/// batched into one ReadIndex per round, asked again when the answer is lost; when to snapshot, and
/// the membership each snapshot must record; installing a received snapshot; and fail-stop: any
/// error from the disk or the state machine stops the replica for good, failing every request,
/// because skipping what the other replicas apply would split them.
///
/// Single-threaded: the host makes every call from one thread, and calls nothing between
/// <see cref="BeginRound"/> and <see cref="EndRound"/> but its own sync of the disk.
/// </summary>
public sealed partial class ReplicaDriver<TResult>
{
    private readonly ReplicaOptions _options;
    private readonly IRaftDisk _disk;
    private readonly IReplicatedStateMachine<TResult> _stateMachine;
    private readonly IRaftTransport _transport;
    private readonly IReplicaObserver _observer;
    private readonly RaftNode _node;
    private readonly PendingProposals<TResult> _proposals;
    private readonly PendingReads _reads;
    private readonly ConfigurationHistory _configurations;
    private Ready? _inFlight;
    private bool _sentFirst;
    private bool _touched;
    private HardState _persisted;
    private ulong _lastSnapshotIndex;
    private Func<CapturedSnapshot>? _snapshotWork;
    private bool _capturing;
    private ulong _ticks;
    private ulong _nextSequence;
    private ulong _leaderCommitSeen;
    private ulong? _leaderContactTick;
    private ulong _freshAtTick;
    private volatile ReplicaStatus _status;
    private (RaftRole, ulong, ulong, ulong, ulong, ulong, ulong, ConfState, ulong) _statusKey;

    /// <summary>
    /// Starts a replica over what <paramref name="disk"/> holds. A state machine behind the stored
    /// snapshot (a crash between writing a received snapshot and restoring from it, or a state that
    /// lost its latest applies) is restored from the snapshot first; the engine then resumes from
    /// the state machine's applied index.
    /// </summary>
    public ReplicaDriver(ReplicaOptions options, IRaftDisk disk, IReplicatedStateMachine<TResult> stateMachine, IRaftTransport transport, IReplicaObserver? observer = null)
    {
        options.Validate();
        _options = options;
        _disk = disk;
        _stateMachine = stateMachine;
        _transport = transport;
        _observer = observer ?? IReplicaObserver.None;
        _proposals = new PendingProposals<TResult>(options.MaxPendingProposals);
        _reads = new PendingReads(options.Proposer, options.MaxPendingReads);

        var snapshot = disk.Log.Snapshot();
        if (snapshot.Metadata.Index > stateMachine.AppliedIndex)
        {
            stateMachine.Restore(snapshot);
        }

        _node = new RaftNode(options.Raft with { Applied = stateMachine.AppliedIndex }, disk.Log);
        _persisted = disk.Log.InitialState().HardState;
        _lastSnapshotIndex = snapshot.Metadata.Index;
        _configurations = new ConfigurationHistory(_node.Applied, _node.ConfState);

        // The only voter of a group needs no election timeout to know it wins.
        var conf = _node.ConfState;
        if (conf.Voters.Count == 1 && conf.Voters[0] == options.Raft.Id && !conf.IsJoint)
        {
            _node.Campaign();
        }

        _status = BuildStatus();
    }

    /// <summary>The engine, for local requests and status between rounds (transfers, membership changes).</summary>
    public RaftNode Raft => _node;

    /// <summary>The latest status, refreshed at the end of every round that changed something; safe to read from any thread.</summary>
    public ReplicaStatus Status => _status;

    /// <summary>Why the replica stopped, or null while it runs.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Ticks this replica has counted (safe to read from any thread).</summary>
    public ulong Ticks => Volatile.Read(ref _ticks);

    /// <summary>
    /// The latest tick at which this replica knew it had applied all its leader had committed: every
    /// tick on a leader; 0 until a follower first hears from one (safe to read from any thread).
    /// </summary>
    public ulong FreshAtTick => Volatile.Read(ref _freshAtTick);

    public int PendingProposals => _proposals.Count;

    public int PendingReads => _reads.Count;

    /// <summary>Whether a round would do anything: a Ready from the engine, or reads to ask for.</summary>
    public bool HasWork => Failure is null && (_node.HasReady || (_reads.HasWaiting && _node.Lead != RaftNode.None));

    /// <summary>
    /// Writes an empty disk's first state: the group's initial membership as a snapshot at index 1,
    /// term 1, holding <paramref name="state"/> (empty: an empty state machine). Every founding
    /// replica writes the same, so they agree on it without talking. Returns false (and writes
    /// nothing) when the disk holds a log already.
    /// </summary>
    public static bool Bootstrap(IRaftDisk disk, ConfState configuration, byte[]? state = null)
    {
        var log = disk.Log;
        if (!log.Snapshot().IsEmpty || log.LastIndex != 0 || !log.InitialState().HardState.IsEmpty)
        {
            return false;
        }

        var ready = new Ready
        {
            Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, configuration), state ?? []),
            HardState = new HardState(1, 0, 1),
            MustSync = true,
        };
        disk.Write(ready);
        disk.Sync();
        disk.Publish(ready);
        return true;
    }

    public void Tick()
    {
        // The two inputs of every round are written out rather than passed to Input: no closure
        // to allocate per tick and per message.
        if (!TakesInput())
        {
            return;
        }

        try
        {
            Volatile.Write(ref _ticks, _ticks + 1);
            _node.Tick();
            if (_node.Role == RaftRole.Leader)
            {
                Volatile.Write(ref _freshAtTick, _ticks);
            }

            RetryProposals(onTick: true);
            _reads.OnTick(_ticks, _options.RequestTimeoutTicks, _options.ReadRetryTicks);
        }
        catch (Exception e)
        {
            Stop(e);
        }
    }

    public void Step(RaftMessage message)
    {
        if (!TakesInput())
        {
            return;
        }

        try
        {
            if (message.Type is MessageType.Append or MessageType.Heartbeat && message.Term >= _node.Term)
            {
                // A heartbeat's Index is the leader's own commit index (its Commit is capped at
                // what this replica is known to have, which says nothing about how far behind it is).
                _leaderCommitSeen = Math.Max(_leaderCommitSeen, message.Type == MessageType.Heartbeat ? message.Index : message.Commit);
                _leaderContactTick = _ticks;
            }

            _node.Step(message);
        }
        catch (Exception e)
        {
            Stop(e);
        }
    }

    /// <summary>
    /// Asks for a linearizable read point; <paramref name="done"/> hears it once this replica has
    /// applied through it (then reading the local state is linearizable), or why not by the deadline.
    /// </summary>
    public void Read(Action<ReadOutcome> done)
    {
        if (Failure is not null)
        {
            done(ReadOutcome.Failed(StoppedReason));
            return;
        }

        if (_reads.Full)
        {
            done(ReadOutcome.Failed($"too many reads waiting ({_options.MaxPendingReads})"));
            return;
        }

        _reads.Add(done, _ticks);
    }

    /// <summary>Runs a local request against the engine (a membership change, a transfer, a report), with fail-stop.</summary>
    public T Request<T>(Func<RaftNode, T> request)
    {
        var result = default(T)!;
        Input(() => result = request(_node));
        return result;
    }

    /// <summary>
    /// The first half of a round: asks for the waiting reads, takes the engine's Ready, sends what
    /// may leave before the fsync and writes the records. The host then syncs the disk if told to,
    /// and calls <see cref="EndRound"/> in any case.
    /// </summary>
    public RoundStart BeginRound()
    {
        if (Failure is not null)
        {
            return RoundStart.Idle;
        }

        if (_inFlight is not null)
        {
            throw new InvalidOperationException("a round is already in flight");
        }

        try
        {
            if (_reads.HasWaiting && _node.Lead != RaftNode.None)
            {
                _node.ReadIndex(_reads.Issue(_ticks));
            }

            if (!_node.HasReady)
            {
                return RoundStart.Idle;
            }

            var ready = _node.GetReady();
            if (Planted(ReplicaBugs.InstallSnapshotWithoutConfiguration) && ready.Snapshot is { } received)
            {
                ready = ready with { Snapshot = received with { Metadata = received.Metadata with { ConfState = _configurations.At(ulong.MaxValue) } } };
            }

            _inFlight = ready;
            _touched = true;
            _sentFirst = Planted(ReplicaBugs.SendBeforeFsync) || (_options.LeaderSendsBeforeFsync && MaySendBeforeFsync(ready));
            if (_sentFirst)
            {
                Send(ready.Messages);
            }

            _disk.Write(ready);
            return ready.MustSync ? RoundStart.MustSync : RoundStart.Written;
        }
        catch (Exception e)
        {
            Stop(e);
            return RoundStart.Idle;
        }
    }

    /// <summary>The second half, once what <see cref="BeginRound"/> wrote is durable.</summary>
    public void EndRound()
    {
        if (Failure is not null)
        {
            _inFlight = null;
            return;
        }

        try
        {
            if (_inFlight is { } ready)
            {
                _inFlight = null;
                Finish(ready);
            }

            if (_touched)
            {
                // A round without a Ready (a host runs every replica's, and a tick may change
                // nothing visible) has nothing new to report; nor has most of a leader's, which
                // only sent heartbeats.
                _touched = false;
                MaybeCapture();
                var key = StatusKey();
                if (key != _statusKey)
                {
                    _statusKey = key;
                    _status = BuildStatus();
                }
            }
        }
        catch (Exception e)
        {
            Stop(e);
        }
    }

    /// <summary>A whole round for a host with one replica and its own disk: begin, sync if needed, end.</summary>
    public void RunRound()
    {
        if (BeginRound() == RoundStart.MustSync && Failure is null)
        {
            try
            {
                _disk.Sync();
            }
            catch (Exception e)
            {
                Stop(e);
            }
        }

        EndRound();
    }

    /// <summary>The host could not make a round durable (its sync failed): the replica stops for good.</summary>
    public void Abort(Exception error)
    {
        if (Failure is null)
        {
            Stop(error);
        }
    }

    /// <summary>Fails every waiting request: the host is shutting the replica down.</summary>
    public void Shutdown(string reason)
    {
        FailAll(reason);
    }

    private bool Planted(ReplicaBugs bug) => (_options.Bugs & bug) != 0;

    private string StoppedReason => $"this replica stopped after an error ({Failure?.Message})";

    /// <summary>
    /// A leader's appends may leave before its own fsync, since it counts itself only once they are
    /// durable. Not when the Ready changes term or vote (a vote must be on disk before anyone hears
    /// of it) or holds a snapshot.
    /// </summary>
    private bool MaySendBeforeFsync(Ready ready) =>
        _node.Role == RaftRole.Leader
        && ready.Snapshot is null
        && (ready.HardState.IsEmpty || (ready.HardState.Term == _persisted.Term && ready.HardState.Vote == _persisted.Vote));

    private void Finish(Ready ready)
    {
        _disk.Publish(ready);
        if (!ready.HardState.IsEmpty)
        {
            _persisted = ready.HardState;
        }

        if (!_sentFirst)
        {
            Send(ready.Messages);
        }

        if (ready.Snapshot is { } snapshot)
        {
            InstallSnapshot(snapshot);
        }

        Apply(ready.CommittedEntries);
        foreach (var read in ready.ReadStates)
        {
            _reads.IndexKnown(read.RequestContext, read.Index);
        }

        _node.Advance(ready);
        _reads.Complete(_stateMachine.AppliedIndex);
        if (ready.SoftState is { } soft)
        {
            _observer.RoleChanged(soft.Role, _node.Term, soft.Lead);
            RetryProposals(onTick: false);
        }

        if (_node.Role != RaftRole.Leader && _leaderContactTick is { } contact && _stateMachine.AppliedIndex >= _leaderCommitSeen)
        {
            Volatile.Write(ref _freshAtTick, Math.Max(_freshAtTick, contact));
        }
    }

    private void Apply(IReadOnlyList<RaftEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var applied = _stateMachine.AppliedIndex;
        var commands = new List<ProposedCommand>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Type == EntryType.ConfChange)
            {
                // The engine learns membership only here, even where the state machine is already
                // past this entry (it kept a later apply than the Raft hard state recorded).
                var conf = _node.ApplyConfChange(ConfChange.Decode(entry.Data));
                _configurations.Applied(entry.Index, conf);
                _observer.MembershipApplied(entry.Index, conf);
                continue;
            }

            if (entry.Index <= applied || entry.Data.Length == 0)
            {
                continue;
            }

            try
            {
                var (id, payload) = ProposalFrame.Decode(entry.Data);
                commands.Add(new ProposedCommand(id, entry.Index, entry.Term, payload));
            }
            catch (FormatException e)
            {
                // An entry this version cannot read (a newer node wrote it?): skipping it here while
                // others apply it would split the replicas, so this replica stops instead.
                throw new InvalidDataException($"entry {entry.Index} is not a proposal this version can apply: {e.Message}", e);
            }
        }

        var last = entries[^1].Index;
        if (last <= applied)
        {
            return;
        }

        var results = _stateMachine.Apply(commands, last);
        for (var i = 0; i < commands.Count; i++)
        {
            // A duplicate carries the first copy's result: the proposer may have missed the first
            // copy (it arrived inside a snapshot) and waits for the re-proposal.
            if (commands[i].Id.Proposer == _options.Proposer && _proposals.TryTake(commands[i].Id.Sequence, out var proposal))
            {
                proposal.Done(ProposalOutcome<TResult>.Done(results[i]));
            }
        }
    }

    private void Send(IReadOnlyList<RaftMessage> messages)
    {
        foreach (var m in messages)
        {
            _transport.Send(m);
        }
    }

    /// <summary>Runs an input to the engine; an exception from it (a broken invariant, a failed disk) stops the replica.</summary>
    private void Input(Action input)
    {
        if (!TakesInput())
        {
            return;
        }

        try
        {
            input();
        }
        catch (Exception e)
        {
            Stop(e);
        }
    }

    /// <summary>False once stopped; an input during a round breaks the contract and throws.</summary>
    private bool TakesInput() => Failure is null && (_inFlight is null ? true : throw new InvalidOperationException("inputs must wait until the round in flight ends"));

    private void Stop(Exception error)
    {
        Failure = error;
        _inFlight = null;
        _observer.Stopped(error);
        FailAll(StoppedReason);
        try
        {
            _status = BuildStatus();
        }
        catch (Exception)
        {
            // The state machine that failed may not even say its applied index any more.
            _status = _status with { Failed = true };
        }
    }

    private void FailAll(string reason)
    {
        foreach (var p in _proposals.TakeAll())
        {
            p.Done(ProposalOutcome<TResult>.Failed(reason, p.EverHandedOver));
        }

        _reads.FailAll(reason);
    }

    /// <summary>What the status shows, cheaply: when it has not changed, the status is not built again.</summary>
    private (RaftRole, ulong, ulong, ulong, ulong, ulong, ulong, ConfState, ulong) StatusKey()
    {
        var matched = _node.Role == RaftRole.Leader ? _node.SumOfMatches() : 0;
        return (_node.Role, _node.Term, _node.Lead, _node.Committed, _stateMachine.AppliedIndex, _node.LastIndex, _lastSnapshotIndex, _node.ConfState, matched);
    }

    private ReplicaStatus BuildStatus()
    {
        var status = _node.Status(describeProgress: false);
        return new ReplicaStatus(
            status.Role,
            status.Term,
            status.Lead,
            status.Commit,
            _stateMachine.AppliedIndex,
            status.LastIndex,
            _lastSnapshotIndex,
            status.Config,
            status.Match,
            Failure is not null);
    }
}
