using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>
/// One simulated replica: the driver that pumps a <see cref="RaftNode"/> by the Ready contract
/// against a simulated disk (writes take time; a crash mid-write keeps nothing, or with disk
/// faults a torn prefix) and the simulated network, and applies committed entries to a
/// <see cref="KvStateMachine"/>. While a Ready is being written, arriving messages and requests
/// wait in an inbox, as they would in a real single-threaded event loop.
/// </summary>
public sealed class SimNode
{
    private const int SnapshotTail = 10;

    private readonly RaftSimulationSettings _settings;
    private readonly SimScheduler _scheduler;
    private readonly SimNetwork _network;
    private readonly SeededRandom _random;
    private readonly RaftInvariants _invariants;
    private readonly ConfState _initialConfig;
    private readonly Queue<Action> _inbox = new();
    private readonly Dictionary<(int Client, long Request), Action<string>> _pendingWrites = [];
    private readonly Dictionary<string, (string Key, Action<bool, string?> Respond, ulong? Index)> _pendingReads = [];
    private Ready? _inFlight;
    private bool _writeDoneWhilePaused;
    private long _epoch;
    private ulong _lastSnapshotIndex;
    private ulong _observedCommit;
    private ulong _ledTerm;

    public SimNode(ulong id, ConfState initialConfig, RaftSimulationSettings settings, SimScheduler scheduler, SimNetwork network, SeededRandom random, RaftInvariants invariants, long maxSizePerMessage = 4096)
    {
        Id = id;
        MaxSizePerMessage = maxSizePerMessage;
        _initialConfig = initialConfig;
        _settings = settings;
        _scheduler = scheduler;
        _network = network;
        _random = random;
        _invariants = invariants;
        Storage = new MemoryRaftStorage();
        Storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(1, 1, initialConfig), Kv.Snapshot()));
        Storage.SetHardState(new HardState(1, 0, 1));
        Raft = NewRaft();
        ScheduleTick();
    }

    public ulong Id { get; }

    public RaftNode Raft { get; private set; }

    /// <summary>The durable log (the simulated disk and the engine's view of it are one and the same outside a write).</summary>
    public MemoryRaftStorage Storage { get; }

    /// <summary>The applied state; durable at every apply, as the node's SQLite state machine would be.</summary>
    public KvStateMachine Kv { get; private set; } = new();

    public bool Up { get; private set; } = true;

    public bool Paused { get; private set; }

    /// <summary>How much slower (above 1) or faster (below 1) this node's clock ticks.</summary>
    public double ClockSkew { get; set; } = 1.0;

    public int Crashes { get; private set; }

    /// <summary>Raised when this node becomes leader of a term (the nemesis may react).</summary>
    public event Action<SimNode>? BecameLeader;

    /// <summary>A Ready is being written (the window in which a crash loses or tears it).</summary>
    public bool Writing => _inFlight is not null;

    /// <summary>The largest append this node's engine sends, drawn per run so batches sometimes split.</summary>
    public long MaxSizePerMessage { get; }

    public void Receive(RaftMessage message) => Enqueue(() => Raft.Step(message));

    /// <summary>Runs <paramref name="request"/> against the engine as a local request (a membership change, a transfer).</summary>
    public void Request(Action<RaftNode> request) => Enqueue(() => request(Raft));

    public void SubmitWrite(KvCommand command, Action<string> respond)
    {
        if (!Up)
        {
            respond("refused");
            return;
        }

        Enqueue(() =>
        {
            var result = Raft.Propose(command.Encode());
            if (result.Accepted)
            {
                _pendingWrites[(command.Client, command.Request)] = respond;
            }
            else
            {
                respond("refused");
            }
        });
    }

    /// <summary>A linearizable read; <paramref name="respond"/> gets (true, value or null if absent), or (false, null) if refused.</summary>
    public void SubmitRead(string key, byte[] context, Action<bool, string?> respond)
    {
        if (!Up)
        {
            respond(false, null);
            return;
        }

        Enqueue(() =>
        {
            _pendingReads[Convert.ToHexString(context)] = (key, respond, null);
            Raft.ReadIndex(context);
        });
    }

    public void Crash(bool tornWrites)
    {
        if (!Up)
        {
            return;
        }

        if (_inFlight is { } ready && tornWrites)
        {
            PersistPrefix(ready, _random.Next(ready.Entries.Count + 3));
        }

        _epoch++;
        _inFlight = null;
        _writeDoneWhilePaused = false;
        Up = false;
        Paused = false;
        Crashes++;
        _inbox.Clear();
        _pendingWrites.Clear();
        _pendingReads.Clear();
    }

    public void Restart()
    {
        if (Up)
        {
            return;
        }

        // A crash may have come after a received snapshot was written but before the state
        // machine was restored from it: restore now, or entries it replaced would never be applied.
        var stored = Storage.Snapshot();
        if (stored.Metadata.Index > Kv.AppliedIndex)
        {
            Kv = KvStateMachine.Restore(stored.Data);
            _lastSnapshotIndex = stored.Metadata.Index;
        }

        try
        {
            Raft = NewRaft();
        }
        catch (InvalidOperationException e)
        {
            _invariants.Fail($"node {Id} cannot restart: {e.Message}");
            return;
        }

        Up = true;
        ScheduleTick();
        MaybeProcess();
    }

    public void Pause() => Paused = Up;

    public void Resume()
    {
        if (!Paused)
        {
            return;
        }

        Paused = false;
        if (_writeDoneWhilePaused && _inFlight is { } ready)
        {
            _writeDoneWhilePaused = false;
            Guarded(() => Complete(ready));
        }

        DrainInbox();
        MaybeProcess();
    }

    private RaftNode NewRaft() => new(
        new RaftConfig
        {
            Id = Id,
            ElectionTick = 10,
            HeartbeatTick = 1,
            MaxSizePerMessage = MaxSizePerMessage,
            MaxInflightMessages = 64,
            SnapshotChunkSize = 256,
            PreVote = true,
            CheckQuorum = true,
            ReadOnlyOption = _settings.ReadOnlyOption,
            Applied = Kv.AppliedIndex,
            Random = new SeededRandom(_random.NextUInt64()),
            Bugs = _settings.EngineBugs,
        },
        Storage);

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
                Enqueue(Raft.Tick);
            }

            ScheduleTick();
        });
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

        Guarded(action);
        MaybeProcess();
    }

    private void DrainInbox()
    {
        while (_inFlight is null && !Paused && Up && _inbox.TryDequeue(out var action))
        {
            Guarded(action);
        }
    }

    /// <summary>
    /// Runs engine code; if the engine refuses to go on (it found a committed entry about to be
    /// overwritten, say), that is a safety violation: record it and take the node down.
    /// </summary>
    private void Guarded(Action action)
    {
        try
        {
            action();
            Observe();
        }
        catch (InvalidOperationException e)
        {
            _invariants.Fail($"node {Id} stopped: {e.Message}");
            Crash(tornWrites: false);
        }
    }

    private void MaybeProcess()
    {
        if (!Up || Paused || _inFlight is not null || !Raft.HasReady)
        {
            return;
        }

        Ready ready;
        try
        {
            ready = Raft.GetReady();
        }
        catch (InvalidOperationException e)
        {
            _invariants.Fail($"node {Id} stopped: {e.Message}");
            Crash(tornWrites: false);
            return;
        }

        _inFlight = ready;
        var epoch = _epoch;
        if (_settings.DriverBugs.HasFlag(SimDriverBugs.SendBeforeFsync))
        {
            Send(ready);
        }

        var writeMs = ready.MustSync ? 1 + _random.Next(8) : 0;
        _scheduler.After(writeMs, () =>
        {
            if (epoch != _epoch)
            {
                return;
            }

            if (Paused)
            {
                // The disk finished, but the process is stopped: it sends and applies on resume.
                _writeDoneWhilePaused = true;
                return;
            }

            Guarded(() => Complete(ready));
        });
    }

    private void Complete(Ready ready)
    {
        // 1. The write is durable.
        Persist(ready);

        // 2. Only now may messages that depend on it leave.
        if (!_settings.DriverBugs.HasFlag(SimDriverBugs.SendBeforeFsync))
        {
            Send(ready);
        }

        // 3. Apply.
        if (ready.Snapshot is { } snapshot)
        {
            Kv = KvStateMachine.Restore(snapshot.Data);
            _lastSnapshotIndex = snapshot.Metadata.Index;
        }

        foreach (var entry in ready.CommittedEntries)
        {
            Apply(entry);
        }

        foreach (var read in ready.ReadStates)
        {
            var key = Convert.ToHexString(read.RequestContext);
            if (_pendingReads.TryGetValue(key, out var pending))
            {
                _pendingReads[key] = pending with { Index = read.Index };
            }
        }

        AnswerReads();
        Raft.Advance(ready);
        _inFlight = null;
        Observe();

        MaybeSnapshot();
        DrainInbox();
        MaybeProcess();
    }

    /// <summary>Reports to the checkers, right after each step: a new leader, and commits a leader made.</summary>
    private void Observe()
    {
        if (Raft.Role != RaftRole.Leader)
        {
            _observedCommit = Raft.Committed;
            return;
        }

        if (_ledTerm != Raft.Term)
        {
            _ledTerm = Raft.Term;
            BecameLeader?.Invoke(this);
        }

        _invariants.Leader(Raft.Term, Id, Raft);
        if (Raft.Committed > _observedCommit)
        {
            _invariants.Committed(Raft.Term, _observedCommit, Raft.Committed, Raft);
        }

        _observedCommit = Raft.Committed;
    }

    private void Persist(Ready ready) => PersistPrefix(ready, int.MaxValue);

    /// <summary>
    /// Writes the Ready's records in log order (snapshot, entries, hard state) but only the first
    /// <paramref name="records"/> of them: what a torn write leaves after recovery cut it back.
    /// </summary>
    private void PersistPrefix(Ready ready, int records)
    {
        if (ready.Snapshot is { } snapshot)
        {
            if (records-- <= 0)
            {
                return;
            }

            Storage.ApplySnapshot(snapshot);
        }

        var take = Math.Min(records, ready.Entries.Count);
        Storage.Append(ready.Entries.Take(take).ToList());
        records -= take;
        if (records > 0 && !ready.HardState.IsEmpty)
        {
            Storage.SetHardState(ready.HardState);
        }
    }

    private void Send(Ready ready)
    {
        foreach (var message in ready.Messages)
        {
            _network.Send(message);
        }
    }

    private void Apply(RaftEntry entry)
    {
        _invariants.Applied(Id, entry);
        if (entry.Type == EntryType.ConfChange)
        {
            Raft.ApplyConfChange(ConfChange.Decode(entry.Data));
            Kv.Skip(entry.Index);
            return;
        }

        if (entry.Data.Length == 0)
        {
            Kv.Skip(entry.Index);
            return;
        }

        var command = KvCommand.Decode(entry.Data);
        var result = Kv.Apply(entry.Index, command);
        if (_pendingWrites.Remove((command.Client, command.Request), out var respond))
        {
            respond(result);
        }
    }

    private void AnswerReads()
    {
        foreach (var (context, pending) in _pendingReads.ToList())
        {
            if (pending.Index is { } index && Kv.AppliedIndex >= index)
            {
                _pendingReads.Remove(context);
                pending.Respond(true, Kv.Get(pending.Key));
            }
        }
    }

    private void MaybeSnapshot()
    {
        var applied = Kv.AppliedIndex;
        if (_settings.SnapshotEvery <= 0 || applied < _lastSnapshotIndex + (ulong)_settings.SnapshotEvery || applied > Storage.LastIndex)
        {
            return;
        }

        Storage.CreateSnapshot(applied, Raft.ConfState, Kv.Snapshot());
        _lastSnapshotIndex = applied;
        if (applied > SnapshotTail && applied - SnapshotTail >= Storage.FirstIndex)
        {
            Storage.Compact(applied - SnapshotTail);
        }
    }

    public override string ToString() =>
        $"node {Id}: {(Up ? Paused ? "paused" : "up" : "down")} {Raft.Role} term={Raft.Term} commit={Raft.Committed} applied={Kv.AppliedIndex} last={Raft.LastIndex} skew={ClockSkew:F2} config={Raft.ConfState}"
        + (Raft.Role == RaftRole.Leader ? " progress: " + string.Join("; ", Raft.Status().Progress.Select(p => $"{p.Key}: {p.Value}")) : string.Empty);

    internal static byte[] ReadContext(int client, long request) => Encoding.UTF8.GetBytes($"{client}:{request}");
}
