using Shortener.Core;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Simulation.Disk;
using Shortener.Storage;
using Shortener.Storage.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>
/// One simulated node: the production replica driver over the production WAL and snapshot files
/// (on a <see cref="SimFileSystem"/>), the link state machine production keeps in parity with its
/// SQLite one, and the simulated network. Only the host is the simulator's: a round's write takes
/// 1–8 ms of virtual time before its fsync completes; meanwhile, or while the node is paused,
/// inputs wait in an inbox, as they would behind a real single-threaded event loop. A crash is a
/// power loss: the disk keeps what was synced (with disk faults, torn and bit-flipped tails), the
/// state machine what happened to be durable, and a restart recovers through the production code.
/// </summary>
public sealed class SimReplica : IReplicaObserver
{
    private const string Directory = "/node/raft";

    private readonly RaftSimulationSettings _settings;
    private readonly SimScheduler _scheduler;
    private readonly SimNetwork _network;
    private readonly SeededRandom _random;
    private readonly RaftInvariants _invariants;
    private readonly SimFileSystem _disk = new();
    private readonly Queue<Action> _inbox = new();
    private readonly Dictionary<long, ulong> _unanswered = [];
    private DurableRaftStorage? _storage;
    private ObservedStateMachine? _state;
    private InMemoryLinkStateMachine _durableState = new();
    private ReplicaDriver<BatchItemResult>? _driver;
    private RoundStart? _inFlight;
    private bool _writeDoneWhilePaused;
    private bool _stopReported;
    private long _epoch;
    private long _nextRequest;
    private ulong _observedCommit;
    private ulong _ledTerm;
    private ulong _membershipSeen;
    private readonly Action _onTick;

    public SimReplica(ulong id, ConfState initialConfig, byte[] initialState, RaftSimulationSettings settings, SimScheduler scheduler, SimNetwork network, SeededRandom random, RaftInvariants invariants, long maxSizePerMessage)
    {
        Id = id;
        MaxSizePerMessage = maxSizePerMessage;
        _settings = settings;
        _scheduler = scheduler;
        _network = network;
        _random = random;
        _invariants = invariants;
        _onTick = OnTick;
        using (var storage = DurableRaftStorage.Open(Directory, settings.SegmentBytes, _disk))
        {
            ReplicaDriver<BatchItemResult>.Bootstrap(storage, initialConfig, initialState);
        }

        Start();
    }

    public ulong Id { get; }

    public bool Up { get; private set; }

    public bool Paused { get; private set; }

    /// <summary>How much slower (above 1) or faster (below 1) this node's clock ticks.</summary>
    public double ClockSkew { get; set; } = 1.0;

    public int Crashes { get; private set; }

    /// <summary>The largest append this node's engine sends, drawn per run so batches sometimes split.</summary>
    public long MaxSizePerMessage { get; }

    /// <summary>The engine (while the node is up).</summary>
    public RaftNode Raft => _driver!.Raft;

    /// <summary>The log as the engine reads it (the last one the node had, when it is down).</summary>
    public MemoryRaftStorage Log => _storage!.Memory;

    public InMemoryLinkTable Links => _state!.Inner.Table;

    /// <summary>A round's write is waiting for its fsync (the window in which a crash loses or tears it).</summary>
    public bool Writing => _inFlight == RoundStart.MustSync;

    public SimFileSystem Disk => _disk;

    /// <summary>This node became leader of a term (the nemesis may react).</summary>
    public event Action<SimReplica>? BecameLeader;

    /// <summary>This node, as leader, moved its commit index.</summary>
    public event Action<SimReplica>? CommitAdvanced;

    /// <summary>A write proposed here was applied and its client is being answered.</summary>
    public event Action<SimReplica>? Acknowledged;

    /// <summary>This node applied a membership change for the first time (not again while it replays its log after a restart).</summary>
    public event Action<SimReplica>? MembershipChanged;

    /// <summary>This node, as leader, sent a snapshot chunk to a follower.</summary>
    public event Action<SimReplica, ulong>? SendingSnapshot;

    /// <summary>This node installed a snapshot it received.</summary>
    public event Action<SimReplica>? InstalledSnapshot;

    /// <summary>Proposes <paramref name="envelope"/> here; <paramref name="respond"/> hears the driver's outcome (refused at once when the node is down).</summary>
    public void SubmitWrite(LinkCommandEnvelope envelope, Action<ProposalOutcome<BatchItemResult>> respond)
    {
        if (!Up)
        {
            respond(ProposalOutcome<BatchItemResult>.Failed("the node is down", mayHaveApplied: false));
            return;
        }

        Enqueue(() =>
        {
            var request = Track();
            _driver!.Propose(LinkCommandCodec.Encode(envelope), outcome =>
            {
                _unanswered.Remove(request);
                if (outcome.Applied)
                {
                    Acknowledged?.Invoke(this);
                }

                respond(outcome);
            });
        });
    }

    /// <summary>A linearizable read of <paramref name="code"/>'s URL: (true, the URL or null) once the read point is applied here, or (false, null).</summary>
    public void SubmitRead(string code, Action<bool, string?> respond)
    {
        if (!Up)
        {
            respond(false, null);
            return;
        }

        Enqueue(() =>
        {
            var request = Track();
            _driver!.Read(outcome =>
            {
                _unanswered.Remove(request);
                respond(outcome.Ok, outcome.Ok ? Links.Find(code)?.Url : null);
            });
        });
    }

    public void Receive(RaftMessage message)
    {
        if (!Up)
        {
            return;
        }

        // Most messages find the node idle: stepped at once, with no closure to queue.
        if (Paused || _inFlight is not null)
        {
            _inbox.Enqueue(() => _driver!.Step(message));
            return;
        }

        _driver!.Step(message);
        Observe();
        MaybeRound();
    }

    /// <summary>Runs <paramref name="request"/> against the engine as a local request (a membership change, a transfer).</summary>
    public void Request(Action<RaftNode> request) => Enqueue(() => _driver!.Request(node =>
    {
        request(node);
        return 0;
    }));

    /// <summary>A power loss: the process dies and the disk keeps what was synced (with <paramref name="tornWrites"/>, torn tails).</summary>
    public string Crash(bool tornWrites)
    {
        if (!Up)
        {
            return "already down";
        }

        var what = _disk.Crash(_random, tornWrites);
        _epoch++;
        _inFlight = null;
        _writeDoneWhilePaused = false;
        Up = false;
        Paused = false;
        Crashes++;
        _inbox.Clear();
        _unanswered.Clear();
        _driver = null;
        return what;
    }

    public void Restart()
    {
        if (Up)
        {
            return;
        }

        Start();
        MaybeRound();
    }

    public void Pause() => Paused = Up;

    public void Resume()
    {
        if (!Paused)
        {
            return;
        }

        Paused = false;
        if (_writeDoneWhilePaused && _inFlight is { } start)
        {
            _writeDoneWhilePaused = false;
            Complete(start);
        }

        DrainInbox();
        MaybeRound();
    }

    void IReplicaObserver.MembershipApplied(ulong index, ConfState configuration)
    {
        if (index > _membershipSeen)
        {
            _membershipSeen = index;
            MembershipChanged?.Invoke(this);
        }
    }

    void IReplicaObserver.SnapshotInstalled(SnapshotMetadata metadata, int bytes) => InstalledSnapshot?.Invoke(this);

    void IReplicaObserver.Stopped(Exception error)
    {
        if (!_stopReported)
        {
            _stopReported = true;
            _invariants.Fail($"node {Id} stopped: {error.Message}");
        }
    }

    public override string ToString() => !Up
        ? $"node {Id}: down after {Crashes} crashes"
        : $"node {Id}: {(Paused ? "paused" : "up")} {Raft.Role} term={Raft.Term} commit={Raft.Committed} applied={_state!.AppliedIndex} last={Raft.LastIndex} skew={ClockSkew:F2} config={Raft.ConfState}"
          + (Raft.Role == RaftRole.Leader ? " progress: " + string.Join("; ", Raft.Status().Progress.Select(p => $"{p.Key}: {p.Value}")) : string.Empty);

    /// <summary>Opens the disk through the production recovery and starts a driver on it; a node that cannot start is a violation.</summary>
    private void Start()
    {
        try
        {
            _storage = DurableRaftStorage.Open(Directory, _settings.SegmentBytes, _disk);
        }
        catch (Exception e) when (e is StorageException or IOException)
        {
            _invariants.Fail($"node {Id} cannot restart: its disk does not open: {e.Message}");
            return;
        }

        _state = new ObservedStateMachine(_durableState.Copy(), this);
        try
        {
            _driver = new ReplicaDriver<BatchItemResult>(Options(), _storage, _state, new Transport(this), this);
        }
        catch (InvalidOperationException e)
        {
            _invariants.Fail($"node {Id} cannot restart: {e.Message}");
            return;
        }

        Up = true;
        _stopReported = false;
        _observedCommit = 0;
        ScheduleTick();
        Observe();
    }

    private ReplicaOptions Options() => new()
    {
        Raft = new RaftConfig
        {
            Id = Id,
            ElectionTick = 10,
            HeartbeatTick = 1,
            MaxSizePerMessage = MaxSizePerMessage,
            MaxInflightMessages = 64,
            SnapshotChunkSize = 2048,
            PreVote = true,
            CheckQuorum = true,
            ReadOnlyOption = _settings.ReadOnlyOption,
            Random = new SeededRandom(_random.NextUInt64()),
            Bugs = _settings.EngineBugs,
        },

        // A process draws its proposer number when it starts.
        Proposer = _random.NextUInt64(),
        RequestTimeoutTicks = _settings.RequestTimeoutTicks,
        ReproposeTicks = 20,
        SnapshotEntries = _settings.SnapshotEvery,
        SnapshotKeepEntries = 10,
        Bugs = _settings.ReplicaBugs,
    };

    private long Track()
    {
        var request = ++_nextRequest;
        _unanswered[request] = _driver!.Ticks;
        return request;
    }

    private void ScheduleTick()
    {
        var epoch = _epoch;
        var interval = Math.Max(1, (long)Math.Round(_settings.TickMs * ClockSkew));
        _scheduler.After(interval, () =>
        {
            if (epoch != _epoch || !Up)
            {
                return;
            }

            // A paused process misses its ticks; it does not catch up on them later.
            if (!Paused)
            {
                Enqueue(_onTick);
            }

            ScheduleTick();
        });
    }

    private void OnTick()
    {
        _driver!.Tick();

        // The driver answers every request by its deadline; one it forgot is a lost request.
        if (_unanswered.Count == 0)
        {
            return;
        }

        var late = (ulong)_settings.RequestTimeoutTicks + 5;
        foreach (var request in _unanswered.Where(r => _driver.Ticks - r.Value > late).Select(r => r.Key).ToList())
        {
            _unanswered.Remove(request);
            _invariants.Fail($"liveness: node {Id} left a request unanswered {late} ticks after it was made");
        }
    }

    private void Enqueue(Action action)
    {
        if (!Up)
        {
            return;
        }

        if (Paused || _inFlight is not null)
        {
            _inbox.Enqueue(action);
            return;
        }

        action();
        Observe();
        MaybeRound();
    }

    private void DrainInbox()
    {
        while (_inFlight is null && !Paused && Up && _inbox.TryDequeue(out var action))
        {
            action();
            Observe();
        }
    }

    private void MaybeRound()
    {
        if (!Up || Paused || _inFlight is not null || !_driver!.HasWork)
        {
            return;
        }

        var start = _driver.BeginRound();
        _inFlight = start;
        var epoch = _epoch;
        var writeMs = start == RoundStart.MustSync ? 1 + _random.Next(8) : 0;
        _scheduler.After(writeMs, () =>
        {
            if (epoch != _epoch)
            {
                return;
            }

            if (Paused)
            {
                // The disk finished, but the process is stopped: it goes on when it resumes.
                _writeDoneWhilePaused = true;
                return;
            }

            Complete(start);
        });
    }

    private void Complete(RoundStart start)
    {
        var applied = _state!.AppliedIndex;
        if (start == RoundStart.MustSync)
        {
            _storage!.Sync();
        }

        _inFlight = null;
        _driver!.EndRound();
        Observe();
        if (_state.AppliedIndex != applied && _random.Chance(_settings.StateDurableChance))
        {
            _durableState = _state.Inner.Copy();
        }

        if (_driver.TakeSnapshotWork() is { } work)
        {
            // Captured now, reported a little later: meanwhile the driver goes on, and a snapshot
            // installed in between overtakes it.
            var captured = work();
            var epoch = _epoch;
            _scheduler.After(_random.Next(30), () =>
            {
                if (epoch == _epoch)
                {
                    Enqueue(() => _driver!.SnapshotCaptured(captured));
                }
            });
        }

        DrainInbox();
        MaybeRound();
    }

    /// <summary>Reports to the checkers, right after each step: a new leader, and commits a leader made.</summary>
    private void Observe()
    {
        if (_driver is null || _driver.Failure is not null)
        {
            return;
        }

        var raft = _driver.Raft;
        if (raft.Role != RaftRole.Leader)
        {
            _observedCommit = raft.Committed;
            return;
        }

        if (_ledTerm != raft.Term)
        {
            _ledTerm = raft.Term;
            BecameLeader?.Invoke(this);
        }

        _invariants.Leader(raft.Term, Id, raft);
        if (raft.Committed > _observedCommit)
        {
            _invariants.Committed(raft.Term, _observedCommit, raft.Committed, raft);
            _observedCommit = raft.Committed;
            CommitAdvanced?.Invoke(this);
        }
    }

    private sealed class Transport(SimReplica replica) : IRaftTransport
    {
        public void Send(RaftMessage message)
        {
            if (message.Type == MessageType.Snapshot)
            {
                replica.SendingSnapshot?.Invoke(replica, message.To);
            }

            replica._network.Send(message);
        }
    }

    /// <summary>The link state machine, with every command it applies reported to the checkers.</summary>
    private sealed class ObservedStateMachine(InMemoryLinkStateMachine inner, SimReplica replica) : IReplicatedStateMachine<BatchItemResult>
    {
        public InMemoryLinkStateMachine Inner => inner;

        public ulong AppliedIndex => inner.AppliedIndex;

        public IReadOnlyList<BatchItemResult> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
        {
            foreach (var c in commands)
            {
                replica._invariants.Applied(replica.Id, c);
            }

            return inner.Apply(commands, appliedThrough);
        }

        public Func<CapturedSnapshot> PrepareSnapshot() => inner.PrepareSnapshot();

        public void Restore(RaftSnapshot snapshot) => inner.Restore(snapshot);
    }
}
