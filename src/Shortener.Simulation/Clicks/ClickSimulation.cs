using System.Globalization;
using Shortener.Core;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Membership;
using Shortener.Core.Quorum;

namespace Shortener.Simulation.Clicks;

/// <summary>
/// The click path of a whole cluster on one virtual clock, from one seed: each node runs the
/// same <see cref="SwimNode"/>, <see cref="ClickNode"/> and <see cref="ClickRelay"/> the real node
/// runs, over in-memory stores that survive its crashes (the outbox too, except in at-most-once
/// mode, whose queue lives in memory). Clients follow links on random nodes; a redirect on a node
/// that is down fails, one on a node that is up succeeds once its click is in the outbox. During
/// the fault stretch the network drops, duplicates and delays (so reorders) messages, data
/// centres are cut off or the cluster split at random, and nodes crash and restart. Then the
/// network heals, every node restarts, and the run waits for the store to converge: outboxes and
/// hints empty, and every link's owners holding the same clicks. Finally each link is read at ALL
/// through the protocol and its count compared with the redirects clients saw succeed. Unless
/// turned off, a second stretch follows in which the wall clock is past the seal horizon of the
/// first stretch's day, so every node seals it while faults go on and new clicks arrive; the store
/// must converge on the same sealed records everywhere and count exactly as before.
/// </summary>
public sealed class ClickSimulation
{
    private const long EpochMs = 1_767_225_600_000; // 2026-01-01, so clicks have realistic days
    private const long DayMs = 86_400_000;

    private readonly ClickSimulationSettings _settings;
    private readonly ClickSimulationSettings _requested;
    private readonly SeededRandom _random;
    private readonly SimScheduler _scheduler = new();
    private readonly SortedDictionary<ulong, SimClickNode> _nodes = [];
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private readonly List<GossipMember> _members = [];
    private readonly HashRing _ring;
    private readonly string[] _codes;
    private readonly Dictionary<string, long> _redirected = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Code, int Day), long> _redirectedByDay = [];
    private readonly Dictionary<(ulong Node, ulong Op), ClickCompletion> _reads = [];
    private readonly Dictionary<(ulong Node, ulong Op), string> _pendingReads = [];
    private readonly List<string> _readViolations = [];
    private long _readsDuringFaults;
    private bool _faulty = true;
    private long _faultsUntil;
    private long _wallStart = EpochMs;
    private long _wallJump;
    private bool _partitioned;
    private long _messages;
    private long _dropped;
    private long _duplicated;
    private long _refused;
    private int _crashes;
    private int _partitions;

    private ClickSimulation(ClickSimulationSettings settings)
    {
        _requested = settings;
        if (settings.SealDuringFaults)
        {
            // Half the first stretch before midnight; that day is past the horizon three quarters in.
            settings = settings with { Clicks = settings.Clicks with { SealAfterMs = settings.FaultMs / 4 }, SealFaultMs = 0 };
            _wallStart = EpochMs + DayMs - (settings.FaultMs / 2);
        }

        settings.Clicks.Validate();
        settings.Relay.Validate();
        settings.Gossip.Validate();
        _settings = settings;
        _random = new SeededRandom(settings.Seed);
        _codes = Enumerable.Range(0, settings.Links).Select(i => $"link{i}").ToArray();
        for (var i = 1; i <= settings.Nodes; i++)
        {
            var id = (ulong)i;
            var dc = $"dc{((i - 1) % settings.Dcs) + 1}";
            _members.Add(new GossipMember(id, dc, $"http://10.0.0.{i}:9080", $"http://10.0.0.{i}:8080", [], 0, MemberStatus.Alive));
            _nodes[id] = new SimClickNode(id, dc, settings.Mode, settings.Bug);
        }

        _ring = new HashRing(_members.Select(m => new RingNode(m.Id, m.Dc, HashRing.TokensFor(m.Id))));
    }

    public static ClickSimulationReport Run(ClickSimulationSettings settings) => new ClickSimulation(settings).Execute();

    private long Now => _scheduler.Now;

    /// <summary>The nodes' wall clock (all alike): what clicks are stamped with and sealing reads.</summary>
    private long Wall => _wallStart + Now + _wallJump;

    private ClickSimulationReport Execute()
    {
        foreach (var node in _nodes.Values)
        {
            Start(node);
        }

        var violations = new List<string>();
        var converged = RunFaults(_settings.FaultMs, violations, "the faults stopped");
        var (counted, over, lost, sealedDay, shortfall) = CheckCounts(converged, violations);

        if (_settings.SealFaultMs > 0 && converged is not null)
        {
            // Past the horizon of every day so far: each node seals them while faults go on.
            _wallJump += _settings.Clicks.SealAfterMs + DayMs;
            if (RunFaults(_settings.SealFaultMs, violations, "the faults of the sealing stretch stopped") is { } again)
            {
                converged += again;
                (counted, over, lost, sealedDay, shortfall) = CheckCounts(again, violations);
            }
            else
            {
                converged = null;
            }
        }

        return new ClickSimulationReport(
            _settings.Seed,
            _settings.Mode,
            _redirected.Values.Sum(),
            _refused,
            counted,
            over,
            lost,
            converged,
            _crashes,
            _partitions,
            _messages,
            _dropped,
            _duplicated,
            _nodes.Values.Sum(n => n.Totals(c => c.HintsReplayed)),
            _readsDuringFaults,
            _nodes.Values.Sum(n => n.Totals(c => c.ReadRepairs)),
            _nodes.Values.Sum(n => n.Totals(c => c.RepairClicksPushed + c.RepairClicksPulled)),
            _nodes.Values.Sum(n => n.Totals(c => c.WritesFailed)),
            _nodes.Values.Sum(n => n.Totals(c => c.ClicksSealed)),
            _nodes.Values.Sum(n => n.Totals(c => c.LateClicks)),
            sealedDay,
            shortfall,
            violations,
            ReplayCommand(_requested));
    }

    /// <summary>
    /// A stretch of faults from now on, with redirects and reads throughout; then the network heals,
    /// every node comes back, and the run waits for the store to converge. Returns how long that took.
    /// </summary>
    private long? RunFaults(long faultMs, List<string> violations, string what)
    {
        _faulty = true;
        _faultsUntil = Now + faultMs;
        ScheduleRedirect();
        ScheduleFaults();
        ScheduleRead();
        _scheduler.Run(_faultsUntil);

        // Faults stop: the network heals and is clean, every node comes back.
        _faulty = false;
        _blocked.Clear();
        _partitioned = false;
        foreach (var node in _nodes.Values.Where(n => n.Crashed))
        {
            Start(node);
        }

        violations.AddRange(_readViolations);
        _readViolations.Clear();
        var quietStart = Now;
        while (Now - quietStart < _settings.QuietMs)
        {
            _scheduler.Run(Now + 250);
            if (Converged() is null)
            {
                return Now - quietStart;
            }
        }

        violations.Add($"not converged {_settings.QuietMs} ms after {what}: {Converged()}");
        return null;
    }

    /// <summary>
    /// Each link's count on its replicas against the redirects clients saw succeed, for the mode;
    /// then, once converged, a read at ALL through the protocol against what the replicas hold. A
    /// day sealed during faults may count fewer (exactly once or at most once), never more.
    /// </summary>
    private (long Counted, long Over, long Lost, long SealedDay, long Shortfall) CheckCounts(long? converged, List<string> violations)
    {
        long counted = 0;
        long over = 0;
        long lost = 0;
        long sealedDay = 0;
        long shortfall = 0;
        var sealedDuringFaults = _settings.SealDuringFaults ? (int?)(_wallStart / DayMs) : null;
        foreach (var code in _codes)
        {
            var owners = _ring.Replicas(HashRing.KeyHash(code), Math.Min(_settings.Clicks.ReplicationFactor, _nodes.Count));
            var store = _nodes[owners[0]].Store;
            var held = store.Fingerprint(code, 0, int.MaxValue).Count;
            var seen = _redirected.GetValueOrDefault(code);
            counted += held;
            if (sealedDuringFaults is { } day)
            {
                var heldThen = store.Fingerprint(code, day, day).Count;
                var seenThen = _redirectedByDay.GetValueOrDefault((code, day));
                if (heldThen > seenThen && _settings.Mode != DeliveryMode.AtLeastOnce)
                {
                    violations.Add($"{code}: clients saw {seenThen} redirects succeed on day {day}, sealed during the faults, and the store counts {heldThen} ({_settings.Mode})");
                }

                sealedDay += seenThen;
                shortfall += Math.Max(0, seenThen - heldThen);
                (held, seen) = (held - heldThen, seen - seenThen);
            }

            over += Math.Max(0, held - seen);
            lost += Math.Max(0, seen - held);
            var wrong = _settings.Mode switch
            {
                DeliveryMode.ExactlyOnce => held != seen,
                DeliveryMode.AtLeastOnce => held < seen,
                _ => held > seen,
            };
            if (wrong)
            {
                violations.Add($"{code}: clients saw {seen} redirects succeed and the store counts {held} ({_settings.Mode}{(sealedDuringFaults is null ? "" : ", days after the one sealed during faults")})");
            }

            var all = store.Fingerprint(code, 0, int.MaxValue).Count;
            if (converged is not null && ReadAll(code) is { } read && (!read.Ok || read.Stats!.Total != all))
            {
                violations.Add($"{code}: a read at ALL on node {read.Reader} at {Now} ms says {(read.Completion.Ok ? read.Completion.Stats!.Total.ToString(CultureInfo.InvariantCulture) : read.Completion.Error)}, the replicas hold {all}; gossip there: {read.View}");
            }
        }

        return (counted, over, lost, sealedDay, shortfall);
    }

    /// <summary>The `shortener sim clicks` line that runs these settings again.</summary>
    public static string ReplayCommand(ClickSimulationSettings s)
    {
        var defaults = new ClickSimulationSettings();
        var line = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"shortener sim clicks --seed {s.Seed} --nodes {s.Nodes} --mode {ModeName(s.Mode)}"));
        line.Append(string.Create(CultureInfo.InvariantCulture, $" --write-level {s.WriteLevel switch { ConsistencyLevel.One => "one", ConsistencyLevel.All => "all", ConsistencyLevel.LocalQuorum => "local-quorum", _ => "quorum" }}"));
        line.Append(string.Create(CultureInfo.InvariantCulture, $" --loss {s.DropRate} --duplicate {s.DuplicateRate} --max-delay-ms {s.MaxDelayMs} --fault-seconds {s.FaultMs / 1000} --seal-fault-seconds {s.SealFaultMs / 1000}"));
        if (s.SealDuringFaults)
        {
            line.Append(" --seal-during-faults");
        }

        if (s.Bug != ClickSimulationBug.None)
        {
            line.Append($" --bug {s.Bug}");
        }

        var normalised = s with
        {
            Seed = defaults.Seed, Nodes = defaults.Nodes, Mode = defaults.Mode, WriteLevel = defaults.WriteLevel, DropRate = defaults.DropRate, DuplicateRate = defaults.DuplicateRate,
            MaxDelayMs = defaults.MaxDelayMs, FaultMs = s.FaultMs / 1000 * 1000, SealFaultMs = s.SealFaultMs / 1000 * 1000, SealDuringFaults = defaults.SealDuringFaults, Bug = defaults.Bug,
        };
        if (normalised != defaults with { FaultMs = s.FaultMs / 1000 * 1000, SealFaultMs = s.SealFaultMs / 1000 * 1000 })
        {
            line.Append(" (other settings as the test gave them)");
        }

        return line.ToString();
    }

    public static string ModeName(DeliveryMode mode) => mode switch
    {
        DeliveryMode.AtMostOnce => "at-most-once",
        DeliveryMode.AtLeastOnce => "at-least-once",
        _ => "exactly-once",
    };

    /// <summary>Null when converged, else what is not.</summary>
    private string? Converged()
    {
        // Gossip first: a node that still looks down to someone gets no hints or reads from it.
        foreach (var node in _nodes.Values)
        {
            if (_members.FirstOrDefault(m => node.Gossip!.Member(m.Id) is not { IsUp: true }) is { } unseen)
            {
                return $"node {node.Id} does not see node {unseen.Id} up yet";
            }
        }

        if (_nodes.Values.FirstOrDefault(n => n.Outbox.Depth > 0 || n.Relay!.Busy) is { } sending)
        {
            return $"node {sending.Id} has {sending.Outbox.Depth} clicks in its outbox";
        }

        if (_nodes.Values.FirstOrDefault(n => n.Hints.Count > 0) is { } hinting)
        {
            return $"node {hinting.Id} holds {hinting.Hints.Count} hints";
        }

        var due = (int)Math.Floor((Wall - (double)_settings.Clicks.SealAfterMs) / DayMs);
        foreach (var node in _nodes.Values)
        {
            if (_codes.FirstOrDefault(c => node.Store.Events(c, 0, due - 1).Count > 0) is { } unsealed)
            {
                return $"node {node.Id} holds open clicks of {unsealed} on days past the seal horizon";
            }
        }

        foreach (var code in _codes)
        {
            var owners = _ring.Replicas(HashRing.KeyHash(code), Math.Min(_settings.Clicks.ReplicationFactor, _nodes.Count));
            var prints = owners.Select(o => _nodes[o].Store.Fingerprint(code, 0, int.MaxValue)).Distinct().ToList();
            if (prints.Count > 1)
            {
                return $"{code}: its owners {string.Join(",", owners)} hold {string.Join(" / ", owners.Select(o => _nodes[o].Store.Fingerprint(code, 0, int.MaxValue).Count))} clicks";
            }
        }

        return null;
    }

    /// <summary>
    /// A read at ALL from a random node. Until gossip has settled after the heal (a restarted node
    /// refuting its death, say), a read at ALL may fail for want of replicas it thinks are up:
    /// that is allowed, so a failed read is tried again for up to 30 s; a wrong count is not.
    /// </summary>
    private (ulong Reader, ClickCompletion Completion, string View, bool Ok, ClickStats? Stats) ReadAll(string code)
    {
        var deadline = Now + 30_000;
        while (true)
        {
            var read = ReadAllOnce(code);
            if (read.Ok || Now >= deadline)
            {
                return read;
            }

            _scheduler.Run(Now + 500);
        }
    }

    private (ulong Reader, ClickCompletion Completion, string View, bool Ok, ClickStats? Stats) ReadAllOnce(string code)
    {
        var node = _nodes[(ulong)(_random.Next(_nodes.Count) + 1)];
        var view = string.Join(", ", node.Gossip!.Members.OrderBy(m => m.Id).Select(m => $"{m.Id} {m.Status}"));
        var op = node.Clicks!.Read(code, 0, int.MaxValue, ConsistencyLevel.All);
        Flush(node);
        var deadline = Now + 5_000;
        while (Now < deadline && !_reads.ContainsKey((node.Id, op)))
        {
            _scheduler.Run(Now + 10);
        }

        var done = _reads.GetValueOrDefault((node.Id, op)) ?? new ClickCompletion(op, false, "no answer in 5 s");
        return (node.Id, done, view, done.Ok, done.Stats);
    }

    private void Start(SimClickNode node)
    {
        node.Crashed = false;
        node.Life++;
        if (_settings.Mode == DeliveryMode.AtMostOnce || _settings.Bug == ClickSimulationBug.OutboxNotDurable)
        {
            node.Outbox = new InMemoryClickOutbox(10_000); // lives in memory: a crash loses it
        }

        var gossip = new SwimNode(_members.First(m => m.Id == node.Id), _settings.Gossip, new SeededRandom(_random.NextUInt64()));
        gossip.Join(_members);
        node.Gossip = gossip;
        node.Clicks = new ClickNode(node.Id, node.Dc, _settings.Clicks, node.Store, node.Hints, peer => gossip.Member(peer) is { IsUp: true }, new SeededRandom(_random.NextUInt64()), Now);
        node.Clicks.SetRing(_ring);
        node.Relay = new ClickRelay(node.Outbox, node.Clicks, _settings.Mode, _settings.WriteLevel, _settings.Relay, new SeededRandom(_random.NextUInt64()));
        node.Hlc = new HybridLogicalClock(500, node.Hlc.Last);
        var life = node.Life;
        ScheduleGossipTick(node, life, 1 + _random.Next(_settings.Gossip.TickMs));
        ScheduleClickTick(node, life, 1 + _random.Next((int)_settings.ClickTickMs));
    }

    private void Crash(SimClickNode node)
    {
        node.Crashed = true;
        node.Life++;
        _crashes++;
    }

    private void ScheduleGossipTick(SimClickNode node, int life, long delay) => _scheduler.After(delay, () =>
    {
        if (node.Life != life)
        {
            return;
        }

        node.Gossip!.Tick();
        Flush(node);
        ScheduleGossipTick(node, life, _settings.Gossip.TickMs);
    });

    private void ScheduleClickTick(SimClickNode node, int life, long delay) => _scheduler.After(delay, () =>
    {
        if (node.Life != life)
        {
            return;
        }

        node.Clicks!.Tick(Now, Wall);
        node.Relay!.Tick(Now);
        Flush(node);
        ScheduleClickTick(node, life, _settings.ClickTickMs);
    });

    private void Flush(SimClickNode node)
    {
        foreach (var completion in node.Clicks!.TakeCompletions())
        {
            if (node.Relay!.Complete(completion))
            {
                continue;
            }

            _reads[(node.Id, completion.Op)] = completion;
            if (_pendingReads.Remove((node.Id, completion.Op), out var code) && completion.Ok)
            {
                _readsDuringFaults++;
                var seen = _redirected.GetValueOrDefault(code);
                if (_settings.Mode == DeliveryMode.ExactlyOnce && completion.Stats!.Total > seen)
                {
                    _readViolations.Add($"{code}: a read at {Now} ms counted {completion.Stats.Total} clicks, more than the {seen} redirects so far");
                }
            }
        }

        foreach (var message in node.Clicks.TakeMessages())
        {
            var bytes = ClickMessageCodec.Encode(message);
            Send(message.From, message.To, target => target.Clicks!.Step(ClickMessageCodec.Decode(bytes)));
        }

        node.Gossip!.TakeEvents();
        foreach (var message in node.Gossip.TakeMessages())
        {
            Send(message.From, message.To, target => target.Gossip!.Step(message));
        }
    }

    private void Send(ulong from, ulong to, Action<SimClickNode> deliver)
    {
        _messages++;
        if (_blocked.Contains((from, to)) || (_faulty && _random.Chance(_settings.DropRate)))
        {
            _dropped++;
            return;
        }

        var copies = _faulty && _random.Chance(_settings.DuplicateRate) ? 2 : 1;
        _duplicated += copies - 1;
        for (var i = 0; i < copies; i++)
        {
            var delay = _settings.MinDelayMs + _random.Next((int)(_settings.MaxDelayMs - _settings.MinDelayMs + 1));
            _scheduler.After(delay, () =>
            {
                if (_blocked.Contains((from, to)) || !_nodes.TryGetValue(to, out var target) || target.Crashed)
                {
                    return;
                }

                deliver(target);
                Flush(target);
            });
        }
    }

    private void ScheduleRedirect()
    {
        var interval = Math.Max(1, 1_000 / Math.Max(1, _settings.RedirectsPerSecond));
        _scheduler.After(1 + _random.Next((2 * interval) - 1), () =>
        {
            if (Now >= _faultsUntil)
            {
                return;
            }

            var code = _codes[_random.Next(_codes.Length)];
            var node = _nodes[(ulong)(_random.Next(_nodes.Count) + 1)];
            if (node.Crashed)
            {
                _refused++; // the client saw an error: the click must not count
            }
            else
            {
                var at = Wall;
                var click = new ClickEvent(RandomGuid(), code, at, node.Hlc.Now(at), _random.Chance(0.1) ? ClickKind.Bot : ClickKind.Human, _random.Chance(0.3) ? $"ref{_random.Next(4)}.example" : null, null) { Origin = node.Id };
                // At most once, a full in-memory queue drops the click though the redirect succeeded: that is the mode's loss.
                node.Outbox.Append(click.Encode());
                _redirected[code] = _redirected.GetValueOrDefault(code) + 1;
                _redirectedByDay[(code, click.Day)] = _redirectedByDay.GetValueOrDefault((code, click.Day)) + 1;
            }

            ScheduleRedirect();
        });
    }

    /// <summary>Reads at QUORUM while faults go on: they may repair replicas, and in exactly-once mode none may count a click that no client saw.</summary>
    private void ScheduleRead() => _scheduler.After(100 + _random.Next(200), () =>
    {
        if (Now >= _faultsUntil)
        {
            return;
        }

        var node = _nodes[(ulong)(_random.Next(_nodes.Count) + 1)];
        if (!node.Crashed)
        {
            var code = _codes[_random.Next(_codes.Length)];
            var op = node.Clicks!.Read(code, 0, int.MaxValue, ConsistencyLevel.Quorum);
            _pendingReads[(node.Id, op)] = code;
            Flush(node);
        }

        ScheduleRead();
    });

    private void ScheduleFaults() => _scheduler.After(1_000, () =>
    {
        if (Now >= _faultsUntil)
        {
            return;
        }

        var running = _nodes.Values.Where(n => !n.Crashed).ToList();
        if (running.Count > 0 && _random.Chance(_settings.CrashPerSecond))
        {
            var victim = running[_random.Next(running.Count)];
            Crash(victim);
            _scheduler.After(1_000 + _random.Next(5_000), () =>
            {
                if (victim.Crashed)
                {
                    Start(victim);
                }
            });
        }

        if (!_partitioned && _random.Chance(_settings.PartitionPerSecond))
        {
            var ids = _nodes.Keys.ToList();
            var side = _random.Chance(0.5)
                ? _nodes.Values.Where(n => n.Dc == $"dc{_random.Next(_settings.Dcs) + 1}").Select(n => n.Id).ToHashSet()
                : ids.Where(_ => _random.Chance(0.5)).ToHashSet();
            foreach (var a in side)
            {
                foreach (var b in ids.Where(b => !side.Contains(b)))
                {
                    _blocked.Add((a, b));
                    _blocked.Add((b, a));
                }
            }

            _partitioned = true;
            _partitions++;
            var partition = _partitions;
            _scheduler.After(2_000 + _random.Next(10_000), () =>
            {
                if (partition == _partitions)
                {
                    _blocked.Clear();
                    _partitioned = false;
                }
            });
        }

        ScheduleFaults();
    });

    private Guid RandomGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, _random.NextUInt64());
        BitConverter.TryWriteBytes(bytes[8..], _random.NextUInt64());
        return new Guid(bytes);
    }

    private sealed class SimClickNode(ulong id, string dc, DeliveryMode mode, ClickSimulationBug bug)
    {
        private readonly List<ClickNodeCounters> _lives = [];
        private ClickNode? _clicks;

        public ulong Id { get; } = id;

        public string Dc { get; } = dc;

        public int Life { get; set; }

        public bool Crashed { get; set; }

        // What survives a crash: the replica, the hints and (but at most once) the outbox.
        public IClickReplicaStore Store { get; } = bug switch
        {
            ClickSimulationBug.NoDeduplication => new DuplicatingStore(),
            ClickSimulationBug.SiblingsSummed => new SummingStore(),
            _ => new InMemoryClickReplicaStore(),
        };

        public InMemoryHintStore Hints { get; } = new();

        public InMemoryClickOutbox Outbox { get; set; } = mode == DeliveryMode.AtMostOnce ? new(10_000) : new();

        public HybridLogicalClock Hlc { get; set; } = new(500);

        public SwimNode? Gossip { get; set; }

        public ClickNode? Clicks
        {
            get => _clicks;
            set
            {
                _clicks = value;
                _lives.Add(value!.Counters);
            }
        }

        public ClickRelay? Relay { get; set; }

        public long Totals(Func<ClickNodeCounters, long> counter) => _lives.Sum(counter);
    }

    /// <summary>The <see cref="ClickSimulationBug.NoDeduplication"/> replica: a click it holds already is stored again under a new id.</summary>
    private sealed class DuplicatingStore : ForwardingStore
    {
        private readonly HashSet<Guid> _seen = [];
        private ulong _copies;

        public override StoredClicks Add(IReadOnlyList<ClickEvent> events) =>
            base.Add(events.Select(e => _seen.Add(e.Id) ? e : e with { Id = ClickRelay.DeliveryId(e.Id, ++_copies) }).ToList());
    }

    /// <summary>The <see cref="ClickSimulationBug.SiblingsSummed"/> replica: a sealed day counts each of its versions in full.</summary>
    private sealed class SummingStore : ForwardingStore
    {
        public override (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay)
        {
            var (count, fingerprint) = base.Fingerprint(code, fromDay, toDay);
            var extra = Sealed(code, fromDay, toDay).Sum(r => r.Versions.Values.Sum(v => v.Total) - r.Value.Total);
            return (count + extra, fingerprint);
        }
    }

    /// <summary>An in-memory replica whose calls a planted bug can override one by one.</summary>
    private abstract class ForwardingStore : IClickReplicaStore
    {
        private readonly InMemoryClickReplicaStore _inner = new();

        public virtual StoredClicks Add(IReadOnlyList<ClickEvent> events) => _inner.Add(events);

        public virtual (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay) => _inner.Fingerprint(code, fromDay, toDay);

        public ClickStats Stats(string code, int fromDay, int toDay, int topReferrers) => _inner.Stats(code, fromDay, toDay, topReferrers);

        public IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay) => _inner.Events(code, fromDay, toDay);

        public IReadOnlyList<SealedDayRecord> Sealed(string code, int fromDay, int toDay) => _inner.Sealed(code, fromDay, toDay);

        public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to) => _inner.Digests(from, to);

        public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days) => _inner.EventDigests(from, to, days);

        public IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes) => _inner.Get(from, to, days, idHashes);

        public IReadOnlyList<SealedDayRecord> Sealed(ulong from, ulong to, IReadOnlyCollection<ulong> days) => _inner.Sealed(from, to, days);

        public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay) => _inner.Totals(fromDay, toDay);

        public int Seal(int beforeDay, ulong replica, int maxClicks) => _inner.Seal(beforeDay, replica, maxClicks);

        public int Merge(IReadOnlyList<SealedDayRecord> records, ulong replica) => _inner.Merge(records, replica);
    }
}
