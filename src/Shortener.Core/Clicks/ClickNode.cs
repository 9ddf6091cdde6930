using Shortener.Core.Quorum;

namespace Shortener.Core.Clicks;

/// <summary>
/// One node's part in the click store (Dynamo-style, the AP side), as a pure state machine: it
/// coordinates writes and reads that callers start on it, serves the requests of other
/// coordinators as a replica, replays hints, and runs Merkle anti-entropy with the other replicas
/// of its ring ranges. The driver calls <see cref="Tick"/> with its clock, <see cref="Step"/> for
/// each message, and sends what <see cref="TakeMessages"/> returns; <see cref="TakeCompletions"/>
/// reports the operations that ended. It reads and writes its replica and hints through
/// <see cref="IClickReplicaStore"/> and <see cref="IHintStore"/> synchronously (durable when they
/// return); everything else it does is a function of its inputs, so the simulator replays it from
/// a seed. Liveness comes from <c>isUp</c> (gossip, in the node and the simulator).
/// <list type="bullet">
/// <item>Writes go to each of the key's N replicas that is up, and to a stand-in for each that is
/// not (sloppy quorum: the stand-in keeps a hint); the write succeeds when its
/// <see cref="ConsistencyLevel"/> is met. An owner that got no copy, refused one or did not answer
/// in time gets a hint kept here.</item>
/// <item>Reads ask the owners that are up for the link's stats and a fingerprint of the clicks
/// behind them. When the answers needed agree, that is the result; when they differ, the
/// coordinator fetches the clicks and sealed days, answers from their union, and sends each
/// replica what it lacked (read repair).</item>
/// <item>Days older than the seal horizon are sealed: each replica folds its clicks of a link's
/// day into G-counters per origin, a version of the day's record (<see cref="SealedDayRecord"/>);
/// anti-entropy and read repair merge the versions like any other difference.</item>
/// </list>
/// </summary>
public sealed partial class ClickNode
{
    private readonly ClickSettings _settings;
    private readonly IClickReplicaStore _store;
    private readonly IHintStore _hints;
    private readonly Func<ulong, bool> _isUp;
    private readonly List<ClickMessage> _outbox = [];
    private readonly List<ClickCompletion> _completions = [];
    private readonly Dictionary<ulong, PendingWrite> _writes = [];
    private readonly Dictionary<ulong, WriteCall> _writeCalls = [];
    private readonly Dictionary<ulong, PendingRead> _reads = [];
    private readonly Dictionary<ulong, PendingSummary> _summaries = [];
    private readonly Dictionary<ulong, HintReplay> _replays = [];
    private readonly Dictionary<ulong, (ulong Owner, long Position, int Count)> _reroutes = [];
    private HashRing _ring = new([]);
    private IReadOnlyList<RingRange> _ranges = [];
    private ulong _nextOp;
    private long _now;
    private long _nextHintReplay;
    private long _nextSeal;

    /// <summary>Days before this one are past the seal horizon (from the wall clock at the last tick; none before the first).</summary>
    private int _sealBefore = int.MinValue;

    public ClickNode(ulong id, string dc, ClickSettings settings, IClickReplicaStore store, IHintStore hints, Func<ulong, bool> isUp, SeededRandom random, long nowMs)
    {
        settings.Validate();
        Id = id;
        Dc = dc;
        _settings = settings;
        _store = store;
        _hints = hints;
        _isUp = isUp;
        _now = nowMs;
        // A restarted node's operation numbers do not collide with its earlier life's, whose late answers may still arrive.
        _nextOp = (random.NextUInt64() >> 2) + 1;
        _aeCursor = random.Next(1 << 16);
        _nextAntiEntropy = nowMs + random.Next((int)Math.Min(int.MaxValue, settings.AntiEntropyIntervalMs));
        _nextHintReplay = nowMs;
        _nextSeal = nowMs;
    }

    public ulong Id { get; }

    public string Dc { get; }

    public HashRing Ring => _ring;

    public ClickNodeCounters Counters { get; } = new();

    /// <summary>Writes, reads and summaries started here and not ended.</summary>
    public int PendingOperations => _writes.Values.Count(w => !w.Reported) + _reads.Count + _summaries.Count;

    /// <summary>N for the current ring: the configured replication factor, or fewer when the ring has fewer nodes.</summary>
    public int ReplicationFactor => Math.Min(_settings.ReplicationFactor, _ring.Nodes.Count);

    /// <summary>The ring the node places clicks on (from the cluster's member list; the same on every node with the same list).</summary>
    public void SetRing(HashRing ring)
    {
        _ring = ring;
        _ranges = ring.Ranges(ReplicationFactor);
        _antiEntropyPairs = null;
    }

    public IReadOnlyList<ClickMessage> TakeMessages()
    {
        var messages = _outbox.ToArray();
        _outbox.Clear();
        return messages;
    }

    public IReadOnlyList<ClickCompletion> TakeCompletions()
    {
        var completions = _completions.ToArray();
        _completions.Clear();
        return completions;
    }

    /// <summary>Stores <paramref name="events"/> at <paramref name="level"/>; ends with a <see cref="ClickCompletion"/> for the returned op.</summary>
    public ulong Write(IReadOnlyList<ClickEvent> events, ConsistencyLevel level)
    {
        var op = NextOp();
        var write = new PendingWrite(op, _now + _settings.RequestTimeoutMs);
        _writes[op] = write;
        var n = ReplicationFactor;
        if (n == 0)
        {
            Report(write, false, "no node is on the click ring");
            return op;
        }

        // One group per set of copies (links whose owners and stand-ins are the same travel together).
        var byCode = new Dictionary<string, WriteGroup>(StringComparer.Ordinal);
        var byTargets = new Dictionary<string, WriteGroup>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!byCode.TryGetValue(e.Code, out var group))
            {
                var key = HashRing.KeyHash(e.Code);
                var owners = _ring.Replicas(key, n);
                var targets = _ring.Targets(key, n, IsUp);
                var signature = string.Join(',', owners) + "|" + string.Join(',', targets.Select(t => $"{t.Node}:{t.Owner}"));
                if (!byTargets.TryGetValue(signature, out group))
                {
                    var tracker = new QuorumTracker(level, owners.Select(o => (o, DcOf(o))).ToList(), targets, Dc);
                    group = new WriteGroup(owners, targets, tracker);
                    byTargets[signature] = group;
                    write.Groups.Add(group);
                }

                byCode[e.Code] = group;
            }

            group.Events.Add(e);
        }

        foreach (var group in write.Groups)
        {
            // An owner that is down with no stand-in gets a hint kept here (it counts toward no level).
            foreach (var owner in group.Owners.Where(o => group.Targets.All(t => t.Owner != o)))
            {
                KeepHint(owner, group.Events);
            }

            foreach (var target in group.Targets)
            {
                if (target.Node == Id)
                {
                    if (StoreLocally(target.IsHint ? target.Owner : 0, group.Events))
                    {
                        group.Tracker.Ack(Id);
                    }
                    else
                    {
                        group.Tracker.Fail(Id);
                    }

                    continue;
                }

                var call = NextOp();
                _writeCalls[call] = new WriteCall(write, group, target);
                write.Calls.Add(call);
                Send(new ClickMessage(ClickMessageType.Write, Id, target.Node, call) { HintFor = target.IsHint ? target.Owner : 0, Events = group.Events });
            }
        }

        Check(write);
        return op;
    }

    /// <summary>A link's stats over days <paramref name="fromDay"/> to <paramref name="toDay"/> at <paramref name="level"/>.</summary>
    public ulong Read(string code, int fromDay, int toDay, ConsistencyLevel level)
    {
        var op = NextOp();
        var owners = _ring.Replicas(HashRing.KeyHash(code), ReplicationFactor);
        var targets = owners.Where(IsUp).Select(o => new ReplicaTarget(o, o, DcOf(o), DcOf(o))).ToList();
        var read = new PendingRead(op, code, fromDay, toDay, new QuorumTracker(level, owners.Select(o => (o, DcOf(o))).ToList(), targets, Dc), _now + _settings.RequestTimeoutMs);
        _reads[op] = read;
        foreach (var target in targets)
        {
            if (target.Node != Id)
            {
                Send(new ClickMessage(ClickMessageType.Read, Id, target.Node, op) { Code = code, FromDay = fromDay, ToDay = toDay });
                continue;
            }

            if (TryLocal(() => ReadLocally(code, fromDay, toDay)) is { } local)
            {
                read.Replies[Id] = local;
                read.Tracker.Ack(Id);
            }
            else
            {
                read.Tracker.Fail(Id);
            }
        }

        Advance(read);
        return op;
    }

    /// <summary>Clicks over the whole cluster in the days given, from every node that is up.</summary>
    public ulong Summary(int fromDay, int toDay)
    {
        var op = NextOp();
        var nodes = _ring.Nodes.Select(n => n.Id).Where(IsUp).Order().ToList();
        var summary = new PendingSummary(op, _ring.Nodes.Count, _now + _settings.RequestTimeoutMs);
        _summaries[op] = summary;
        foreach (var node in nodes)
        {
            if (node != Id)
            {
                summary.Waiting.Add(node);
                Send(new ClickMessage(ClickMessageType.Summary, Id, node, op) { FromDay = fromDay, ToDay = toDay });
            }
            else if (TryLocal(() => SummarizeLocally(fromDay, toDay)) is { } local)
            {
                summary.Replies[Id] = local;
            }
        }

        AdvanceSummary(summary);
        return op;
    }

    /// <summary>
    /// Timeouts, hint replay, anti-entropy and sealing. <paramref name="nowMs"/> is the driver's
    /// monotonic clock (timeouts and intervals); <paramref name="wallMs"/> its wall clock, read only
    /// to tell which UTC days are past the seal horizon.
    /// </summary>
    public void Tick(long nowMs, long wallMs)
    {
        _now = Math.Max(_now, nowMs);
        _sealBefore = (int)Math.Floor((wallMs - (double)_settings.SealAfterMs) / 86_400_000.0);
        foreach (var write in _writes.Values.Where(w => _now >= w.Deadline).ToList())
        {
            foreach (var call in write.Calls)
            {
                var missed = _writeCalls[call];
                _writeCalls.Remove(call);
                missed.Group.Tracker.Fail(missed.Target.Node);
                KeepHint(missed.Target.Owner, missed.Group.Events);
            }

            write.Calls.Clear();
            Check(write);
            if (!write.Reported)
            {
                Report(write, false, "the replicas did not answer in time");
            }

            _writes.Remove(write.Op);
        }

        foreach (var read in _reads.Values.Where(r => _now >= r.Deadline).ToList())
        {
            if (read.Phase == 1)
            {
                foreach (var node in read.Tracker.Open.ToList())
                {
                    read.Tracker.Fail(node);
                }

                Advance(read);
            }
            else
            {
                FinishRead(read, false, "the replicas disagreed, and not all of them sent their clicks in time to merge");
            }
        }

        foreach (var summary in _summaries.Values.Where(s => _now >= s.Deadline).ToList())
        {
            summary.Waiting.Clear();
            AdvanceSummary(summary);
        }

        TickHints();
        TickAntiEntropy();
        TickSeal();
    }

    public void Step(ClickMessage m)
    {
        if (m.To != Id)
        {
            return;
        }

        switch (m.Type)
        {
            case ClickMessageType.Write:
                var hintFor = m.HintFor == Id ? 0 : m.HintFor;
                var stored = StoreLocally(hintFor, m.Events) && (hintFor != 0 || MergeLocally(m.Sealed));
                Send(new ClickMessage(ClickMessageType.WriteAck, Id, m.From, m.Op) { Ok = stored });
                break;
            case ClickMessageType.WriteAck:
                OnWriteAck(m);
                break;
            case ClickMessageType.Read:
                var local = TryLocal(() => ReadLocally(m.Code, m.FromDay, m.ToDay));
                Send(new ClickMessage(ClickMessageType.ReadReply, Id, m.From, m.Op)
                {
                    Ok = local is not null,
                    Count = local?.Count ?? 0,
                    Fingerprint = local?.Fingerprint ?? 0,
                    Stats = local?.Stats,
                });
                break;
            case ClickMessageType.ReadReply:
                OnReadReply(m);
                break;
            case ClickMessageType.ReadEvents:
                var held = TryLocal(() => new ReplicaHistory(_store.Events(m.Code, m.FromDay, m.ToDay), _store.Sealed(m.Code, m.FromDay, m.ToDay)));
                Send(new ClickMessage(ClickMessageType.ReadEventsReply, Id, m.From, m.Op) { Ok = held is not null, Events = held?.Events ?? [], Sealed = held?.Sealed ?? [] });
                break;
            case ClickMessageType.ReadEventsReply:
                if (_reads.TryGetValue(m.Op, out var read) && read.Phase == 2 && read.Replies.ContainsKey(m.From) && !read.Events.ContainsKey(m.From))
                {
                    if (!m.Ok)
                    {
                        FinishRead(read, false, $"node {m.From} could not send its clicks to merge");
                        break;
                    }

                    read.Events[m.From] = new ReplicaHistory(m.Events, m.Sealed);
                    Advance(read);
                }

                break;
            case ClickMessageType.Summary:
                var summary = TryLocal(() => SummarizeLocally(m.FromDay, m.ToDay));
                Send(new ClickMessage(ClickMessageType.SummaryReply, Id, m.From, m.Op)
                {
                    Ok = summary is not null,
                    RangeTotals = summary?.Ranges ?? [],
                    Links = summary?.Links ?? [],
                });
                break;
            case ClickMessageType.SummaryReply:
                if (_summaries.TryGetValue(m.Op, out var pending) && pending.Waiting.Remove(m.From))
                {
                    if (m.Ok)
                    {
                        pending.Replies[m.From] = new LocalTotals(m.RangeTotals, m.Links);
                    }

                    AdvanceSummary(pending);
                }

                break;
            default:
                StepAntiEntropy(m);
                break;
        }
    }

    private void OnWriteAck(ClickMessage m)
    {
        if (_writeCalls.TryGetValue(m.Op, out var call))
        {
            if (m.From != call.Target.Node)
            {
                return;
            }

            _writeCalls.Remove(m.Op);
            call.Write.Calls.Remove(m.Op);
            if (m.Ok)
            {
                call.Group.Tracker.Ack(m.From);
            }
            else
            {
                call.Group.Tracker.Fail(m.From);
                KeepHint(call.Target.Owner, call.Group.Events);
            }

            Check(call.Write);
            return;
        }

        if (_replays.TryGetValue(m.Op, out var replay) && m.From == replay.Owner)
        {
            _replays.Remove(m.Op);
            if (m.Ok && TryLocal(() => _hints.Delivered(replay.Owner, replay.Position)))
            {
                Counters.HintsReplayed += replay.Count;
                _nextHintReplay = _now; // more may wait: go on at the next tick
            }
        }

        // Otherwise the answer to a repair push, or a late one: nothing waits for it.
    }

    private void OnReadReply(ClickMessage m)
    {
        if (!_reads.TryGetValue(m.Op, out var read) || read.Phase != 1 || !read.Tracker.Open.Contains(m.From))
        {
            return;
        }

        if (m.Ok && m.Stats is not null)
        {
            read.Replies[m.From] = new ReplicaAnswer(m.Count, m.Fingerprint, m.Stats);
            read.Tracker.Ack(m.From);
        }
        else
        {
            read.Tracker.Fail(m.From);
        }

        Advance(read);
    }

    private void Advance(PendingRead read)
    {
        if (read.Phase == 1)
        {
            switch (read.Tracker.Outcome)
            {
                case QuorumOutcome.Failed:
                    FinishRead(read, false, $"{read.Tracker.Acknowledged} of the {read.Tracker.Required} replicas a {read.Tracker.Level} read needs answered");
                    return;
                case QuorumOutcome.Pending:
                    return;
            }

            var answers = read.Replies.OrderBy(r => r.Key == Id ? 0 : 1).ThenBy(r => r.Key).ToList();
            if (answers.Select(a => (a.Value.Count, a.Value.Fingerprint)).Distinct().Count() == 1)
            {
                FinishRead(read, true, null, answers[0].Value.Stats);
                return;
            }

            // The replicas disagree. A link with many clicks in the days asked is not merged here
            // (every replica would send all of them): the fullest answer stands, and anti-entropy,
            // which moves only what differs, repairs the rest.
            if (answers.Max(a => a.Value.Count) > _settings.ReadRepairMaxClicks)
            {
                FinishRead(read, true, null, answers.MaxBy(a => a.Value.Count).Value.Stats);
                return;
            }

            // Otherwise: merge their clicks, answer from the union, repair each.
            read.Phase = 2;
            read.Deadline = _now + _settings.RequestTimeoutMs;
            foreach (var node in read.Replies.Keys)
            {
                if (node != Id)
                {
                    Send(new ClickMessage(ClickMessageType.ReadEvents, Id, node, read.Op) { Code = read.Code, FromDay = read.FromDay, ToDay = read.ToDay });
                }
                else if (TryLocal(() => new ReplicaHistory(_store.Events(read.Code, read.FromDay, read.ToDay), _store.Sealed(read.Code, read.FromDay, read.ToDay))) is { } mine)
                {
                    read.Events[Id] = mine;
                }
                else
                {
                    FinishRead(read, false, "this node could not read its own clicks to merge");
                    return;
                }
            }
        }

        if (read.Events.Count < read.Replies.Count)
        {
            return;
        }

        // Days sealed anywhere are merged as records (counting the open clicks replicas still hold of
        // them per origin); days sealed nowhere as the union of their clicks. A replica gets the
        // records it lacks and, for every day it has not sealed, the clicks it lacks: one that holds
        // a day open that others sealed folds the union of the clicks the read saw into its version.
        var (union, sealedDays, values) = ClickAggregation.MergeDays(read.Events.Values.Select(h => h.Events), read.Events.Values.Select(h => h.Sealed));
        var open = union.Where(e => !sealedDays.ContainsKey(e.Day)).ToList();
        var stats = ClickAggregation.Stats(read.Code, open, values, read.FromDay, read.ToDay, _settings.TopReferrers);
        var contents = union.ToDictionary(e => e.Id, ClickHashes.ContentHash);
        foreach (var (node, history) in read.Events.OrderBy(e => e.Key))
        {
            var held = history.Events.GroupBy(e => e.Id).ToDictionary(g => g.Key, g => g.Select(ClickHashes.ContentHash).Min());
            var hashes = history.Sealed.ToDictionary(r => r.Day, r => r.Hash);
            var missing = union
                .Where(e => !hashes.ContainsKey(e.Day) && (!held.TryGetValue(e.Id, out var content) || content != contents[e.Id]))
                .OrderBy(e => e.Id)
                .ToList();
            var records = sealedDays.Values.Where(r => !hashes.TryGetValue(r.Day, out var hash) || hash != r.Hash).OrderBy(r => r.Day).ToList();
            if (missing.Count == 0 && records.Count == 0)
            {
                continue;
            }

            Counters.ReadRepairs++;
            Counters.ReadRepairClicks += missing.Count;
            if (node == Id)
            {
                StoreLocally(0, missing);
                MergeLocally(records);
            }
            else
            {
                Send(new ClickMessage(ClickMessageType.Write, Id, node, NextOp()) { Events = missing, Sealed = records });
            }
        }

        FinishRead(read, true, null, stats, repaired: true);
    }

    private void FinishRead(PendingRead read, bool ok, string? error, ClickStats? stats = null, bool repaired = false)
    {
        _reads.Remove(read.Op);
        if (ok)
        {
            Counters.ReadsSucceeded++;
        }
        else
        {
            Counters.ReadsFailed++;
        }

        _completions.Add(new ClickCompletion(read.Op, ok, error) { Stats = stats, Repaired = repaired });
    }

    private void AdvanceSummary(PendingSummary summary)
    {
        if (summary.Waiting.Count > 0)
        {
            return;
        }

        _summaries.Remove(summary.Op);
        // Each range once: from the replica that holds most of it (replicas converge on the union).
        var ranges = new Dictionary<ulong, (long Human, long Bots)>();
        var links = new Dictionary<string, ClickTotals>(StringComparer.Ordinal);
        foreach (var reply in summary.Replies.OrderBy(r => r.Key).Select(r => r.Value))
        {
            foreach (var (from, human, bots) in reply.Ranges)
            {
                if (!ranges.TryGetValue(from, out var best) || human + bots > best.Human + best.Bots)
                {
                    ranges[from] = (human, bots);
                }
            }

            foreach (var link in reply.Links)
            {
                if (!links.TryGetValue(link.Code, out var best) || link.Total > best.Total)
                {
                    links[link.Code] = link;
                }
            }
        }

        var top = links.Values.OrderByDescending(l => l.Total).ThenBy(l => l.Code, StringComparer.Ordinal).Take(_settings.SummaryTopLinks).ToList();
        var humans = ranges.Values.Sum(r => r.Human);
        var botsTotal = ranges.Values.Sum(r => r.Bots);
        var result = new ClickSummary(humans + botsTotal, humans, botsTotal, top, summary.Replies.Count, summary.Asked, ranges.Count, _ranges.Count);
        var ok = summary.Replies.Count > 0;
        _completions.Add(new ClickCompletion(summary.Op, ok, ok ? null : "no node answered") { Summary = ok ? result : null });
    }

    private ReplicaAnswer ReadLocally(string code, int fromDay, int toDay)
    {
        var (count, fingerprint) = _store.Fingerprint(code, fromDay, toDay);
        return new ReplicaAnswer(count, fingerprint, _store.Stats(code, fromDay, toDay, _settings.TopReferrers));
    }

    /// <summary>Totals of the ranges this node replicates (zero ones too, so the coordinator knows they were covered) and its top links.</summary>
    private LocalTotals SummarizeLocally(int fromDay, int toDay)
    {
        var sums = new Dictionary<int, (long Human, long Bots)>();
        for (var i = 0; i < _ranges.Count; i++)
        {
            if (_ranges[i].Replicas.Contains(Id))
            {
                sums[i] = (0, 0);
            }
        }

        var mine = new List<ClickTotals>();
        if (_ranges.Count > 0)
        {
            foreach (var totals in _store.Totals(fromDay, toDay))
            {
                var range = HashRing.RangeOf(_ranges, HashRing.KeyHash(totals.Code));
                if (sums.TryGetValue(range, out var sum))
                {
                    sums[range] = (sum.Human + totals.Human, sum.Bots + totals.Bots);
                    mine.Add(totals);
                }
            }
        }

        var links = mine.OrderByDescending(l => l.Total).ThenBy(l => l.Code, StringComparer.Ordinal).Take(_settings.SummaryTopLinks).ToList();
        return new LocalTotals(sums.OrderBy(s => s.Key).Select(s => (_ranges[s.Key].From, s.Value.Human, s.Value.Bots)).ToList(), links);
    }

    private void Check(PendingWrite write)
    {
        if (!write.Reported)
        {
            if (write.Groups.All(g => g.Tracker.Outcome == QuorumOutcome.Succeeded))
            {
                Report(write, true, null);
            }
            else if (write.Groups.FirstOrDefault(g => g.Tracker.Outcome == QuorumOutcome.Failed) is { } failed)
            {
                Report(write, false, $"{failed.Tracker.Acknowledged} of the {failed.Tracker.Required} replicas a {failed.Tracker.Level} write needs took the clicks of '{failed.Events[0].Code}'");
            }
        }

        if (write.Reported && write.Calls.Count == 0)
        {
            _writes.Remove(write.Op);
        }
    }

    private void Report(PendingWrite write, bool ok, string? error)
    {
        write.Reported = true;
        if (ok)
        {
            Counters.WritesSucceeded++;
        }
        else
        {
            Counters.WritesFailed++;
        }

        if (_reroutes.Remove(write.Op, out var reroute))
        {
            // A reroute of departed owners' hints: this node's own write, nobody else waits for it.
            if (ok && TryLocal(() => _hints.Delivered(reroute.Owner, reroute.Position)))
            {
                Counters.HintsRerouted += reroute.Count;
            }

            return;
        }

        _completions.Add(new ClickCompletion(write.Op, ok, error));
    }

    private void TickHints()
    {
        if (_now < _nextHintReplay)
        {
            return;
        }

        _nextHintReplay = _now + _settings.HintReplayIntervalMs;
        foreach (var stale in _replays.Where(r => _now >= r.Value.Deadline).Select(r => r.Key).ToList())
        {
            _replays.Remove(stale);
        }

        long expired = 0;
        if (TryLocal(() => { expired = _hints.Expire(_now, _settings.HintWindowMs); }))
        {
            Counters.HintsExpired += expired;
        }

        var owners = TryLocal(() => _hints.Owners) ?? [];
        foreach (var owner in owners)
        {
            if (_replays.Values.Any(r => r.Owner == owner))
            {
                continue;
            }

            if (_ring.Node(owner) is null || owner == Id)
            {
                // No longer on the ring (its ranges are others' now), or somehow this node's own:
                // the clicks go to the key's current replicas as a write of their own, and the hints
                // are dropped once it succeeded.
                Reroute(owner);
                continue;
            }

            if (!IsUp(owner) || TryLocal(() => _hints.Pending(owner, _settings.HintBatch)) is not { Count: > 0 } batch)
            {
                continue;
            }

            var op = NextOp();
            _replays[op] = new HintReplay(owner, batch[^1].Position, batch.Count, _now + _settings.RequestTimeoutMs);
            Send(new ClickMessage(ClickMessageType.Write, Id, owner, op) { Events = batch.Select(h => h.Click).ToList() });
        }
    }

    private void Reroute(ulong owner)
    {
        if (_reroutes.Values.Any(r => r.Owner == owner) || TryLocal(() => _hints.Pending(owner, _settings.HintBatch)) is not { Count: > 0 } batch)
        {
            return;
        }

        var op = Write(batch.Select(h => h.Click).ToList(), ConsistencyLevel.One);
        if (_completions.FindLast(c => c.Op == op) is { } settled)
        {
            // Settled at once (this node holds a copy): take its completion back.
            FinishReroute(owner, batch, settled);
        }
        else
        {
            _reroutes[op] = (owner, batch[^1].Position, batch.Count);
        }
    }

    private void FinishReroute(ulong owner, IReadOnlyList<(long Position, ClickEvent Click)> batch, ClickCompletion completion)
    {
        _completions.Remove(completion);
        if (completion.Ok && TryLocal(() => _hints.Delivered(owner, batch[^1].Position)))
        {
            Counters.HintsRerouted += batch.Count;
        }
    }

    /// <summary>Seals the open days past the horizon, a batch per tick while a pass finds a full one.</summary>
    private void TickSeal()
    {
        if (_now < _nextSeal)
        {
            return;
        }

        var folded = 0;
        if (TryLocal(() => { folded = _store.Seal(_sealBefore, Id, _settings.SealBatch); }))
        {
            Counters.ClicksSealed += folded;
        }

        _nextSeal = folded >= _settings.SealBatch ? _now : _now + _settings.SealIntervalMs;
    }

    /// <summary>
    /// Merges other replicas' versions of sealed days into this replica; false when the disk
    /// refused. A record of a day not yet past this node's own horizon (a peer whose clock runs
    /// ahead, or whose SealAfterDays is shorter) waits: merging it would seal the day here and turn
    /// away its clicks before this node's grace period ends. Anti-entropy offers it again.
    /// </summary>
    private bool MergeLocally(IReadOnlyList<SealedDayRecord> records)
    {
        var due = records.Where(r => r.Day < _sealBefore).ToList();
        Counters.SealedDeferred += records.Count - due.Count;
        return due.Count == 0 || TryLocal(() =>
        {
            Counters.SealedMerged += _store.Merge(due, Id);
        });
    }

    private void KeepHint(ulong owner, IReadOnlyList<ClickEvent> events)
    {
        if (owner != Id && events.Count > 0)
        {
            StoreLocally(owner, events);
        }
    }

    /// <summary>Stores events in this node's replica (<paramref name="hintFor"/> 0) or as hints for another; false when the disk refused.</summary>
    private bool StoreLocally(ulong hintFor, IReadOnlyList<ClickEvent> events) => TryLocal(() =>
    {
        if (hintFor != 0)
        {
            _hints.Add(hintFor, events, _now);
            Counters.HintsStored += events.Count;
        }
        else if (events.Count > 0)
        {
            var stored = _store.Add(events);
            Counters.ClicksStored += stored.Added;
            Counters.LateClicks += stored.Late;
        }
    });

    /// <summary>A local read; null (and counted) when the store threw.</summary>
    private T? TryLocal<T>(Func<T> read)
        where T : class?
    {
        T? result = null;
        return TryLocal(() => { result = read(); }) ? result : null;
    }

    /// <summary>Runs a call into this node's storage; false (and counted) when it threw: a disk error makes this replica one that failed, not the node.</summary>
    private bool TryLocal(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e)
        {
            Counters.StoreFailures++;
            Counters.LastStoreError = e.Message;
            return false;
        }
    }

    private bool IsUp(ulong node) => node == Id || (_ring.Node(node) is not null && _isUp(node));

    private string DcOf(ulong node) => _ring.Node(node)?.Dc ?? "";

    private ulong NextOp() => _nextOp++;

    private void Send(ClickMessage message) => _outbox.Add(message);

    private sealed record ReplicaAnswer(long Count, ulong Fingerprint, ClickStats Stats);

    /// <summary>What one replica holds of a link in the days a read asked: its open clicks and its sealed days.</summary>
    private sealed record ReplicaHistory(IReadOnlyList<ClickEvent> Events, IReadOnlyList<SealedDayRecord> Sealed);

    private sealed record LocalTotals(IReadOnlyList<(ulong RangeFrom, long Human, long Bots)> Ranges, IReadOnlyList<ClickTotals> Links);

    private sealed record HintReplay(ulong Owner, long Position, int Count, long Deadline);

    private sealed record WriteCall(PendingWrite Write, WriteGroup Group, ReplicaTarget Target);

    private sealed class WriteGroup(IReadOnlyList<ulong> owners, IReadOnlyList<ReplicaTarget> targets, QuorumTracker tracker)
    {
        public IReadOnlyList<ulong> Owners { get; } = owners;

        public IReadOnlyList<ReplicaTarget> Targets { get; } = targets;

        public QuorumTracker Tracker { get; } = tracker;

        public List<ClickEvent> Events { get; } = [];
    }

    private sealed class PendingWrite(ulong op, long deadline)
    {
        public ulong Op { get; } = op;

        public long Deadline { get; } = deadline;

        public List<WriteGroup> Groups { get; } = [];

        public HashSet<ulong> Calls { get; } = [];

        public bool Reported { get; set; }
    }

    private sealed class PendingRead(ulong op, string code, int fromDay, int toDay, QuorumTracker tracker, long deadline)
    {
        public ulong Op { get; } = op;

        public string Code { get; } = code;

        public int FromDay { get; } = fromDay;

        public int ToDay { get; } = toDay;

        public QuorumTracker Tracker { get; } = tracker;

        public long Deadline { get; set; } = deadline;

        public int Phase { get; set; } = 1;

        public Dictionary<ulong, ReplicaAnswer> Replies { get; } = [];

        public Dictionary<ulong, ReplicaHistory> Events { get; } = [];
    }

    private sealed class PendingSummary(ulong op, int asked, long deadline)
    {
        public ulong Op { get; } = op;

        public int Asked { get; } = asked;

        public long Deadline { get; } = deadline;

        public HashSet<ulong> Waiting { get; } = [];

        public Dictionary<ulong, LocalTotals> Replies { get; } = [];
    }
}
