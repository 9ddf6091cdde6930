using Shortener.Core.FailureDetection;

namespace Shortener.Core.Membership;

/// <summary>
/// Gossip membership in the style of SWIM with Lifeguard's suspicion (as hashicorp/memberlist
/// does it), as a pure state machine: the driver calls <see cref="Tick"/> every
/// <see cref="GossipSettings.TickMs"/> and <see cref="Step"/> for each message, and sends what
/// <see cref="TakeMessages"/> returns. Each probe interval the node pings the next member of a
/// shuffled round; a member that misses its ack is probed through k others, and if they fail too
/// it becomes suspect. A suspicion turns into death after a timeout that shrinks as other members
/// confirm it, unless the member refutes it by raising its incarnation. Updates travel
/// piggybacked on every message and in small gossip rounds, each a bounded number of times that
/// grows with log(n); a periodic push-pull of the whole list repairs whatever that missed. Each
/// member's messages also feed a phi accrual detector, for callers that want a graded suspicion.
/// </summary>
public sealed class SwimNode
{
    private readonly GossipSettings _settings;
    private readonly PhiAccrualSettings _phiSettings;
    private readonly SeededRandom _random;
    private readonly Dictionary<ulong, GossipMember> _members = [];
    private readonly Dictionary<ulong, Suspicion> _suspicions = [];
    private readonly Dictionary<ulong, PhiAccrualFailureDetector> _detectors = [];
    private readonly Dictionary<ulong, (ulong Requester, ulong Seq, long ExpiresTick)> _relays = [];
    private readonly BroadcastQueue _broadcasts = new();
    private readonly List<GossipMessage> _outbox = [];
    private readonly List<MemberEvent> _events = [];
    private readonly List<ulong> _probeOrder = [];
    private readonly List<ulong> _others = [];
    private readonly int _phase;
    private int _probeIndex;
    private ulong _nextSeq;
    private long _tick;
    private (ulong Target, ulong Seq, long StartTick, bool Acked, bool Indirect)? _probe;
    private bool _leaving;
    private bool _synced;

    public SwimNode(GossipMember self, GossipSettings settings, SeededRandom random, PhiAccrualSettings? phi = null)
    {
        settings.Validate();
        _settings = settings;
        _phiSettings = phi ?? new PhiAccrualSettings();
        _phiSettings.Validate();
        _random = random;
        Self = self with { Status = MemberStatus.Alive };
        _members[self.Id] = Self;
        // Nodes started together do not probe and gossip in lockstep; a restarted node's probe
        // numbers do not collide with its earlier life's, whose late acks may still arrive.
        _phase = random.Next(settings.ProbeIntervalTicks * settings.GossipIntervalTicks * 7);
        _nextSeq = random.NextUInt64() >> 1;
    }

    public GossipMember Self { get; private set; }

    public ulong Id => Self.Id;

    public long Ticks => _tick;

    /// <summary>Every member this node has heard of, itself included, by id.</summary>
    public IReadOnlyCollection<GossipMember> Members => _members.Values;

    public GossipMember? Member(ulong id) => _members.GetValueOrDefault(id);

    /// <summary>Members alive or suspect (still counted as up), itself included.</summary>
    public int UpCount => _members.Values.Count(m => m.IsUp);

    /// <summary>Updates waiting to be piggybacked.</summary>
    public int PendingBroadcasts => _broadcasts.Count;

    /// <summary>Phi of <paramref name="id"/> from the arrival times of its messages; 0 for a member never heard from.</summary>
    public double Phi(ulong id) => _detectors.TryGetValue(id, out var d) ? d.Phi(NowMs) : 0;

    /// <summary>
    /// Whether to send <paramref name="id"/> work now: SWIM counts it up (alive or suspect: SWIM
    /// stays the authority on membership) and its phi is below <paramref name="phiThreshold"/>. A
    /// member SWIM has not yet suspected but that has gone quiet for longer than its own rhythm
    /// makes likely is passed over at once, instead of after a probe round and a suspicion timeout.
    /// </summary>
    public bool IsReachable(ulong id, double phiThreshold) =>
        id == Id || (Member(id) is { IsUp: true } && Phi(id) < phiThreshold);

    private long NowMs => _tick * _settings.TickMs;

    /// <summary>
    /// Learns <paramref name="known"/> (members from configuration; taken as alive at the
    /// incarnation given) and asks up to <paramref name="syncWith"/> of them, at random, for their
    /// whole lists, where it also learns what is said of itself (and refutes it if need be).
    /// </summary>
    public void Join(IEnumerable<GossipMember> known, int syncWith = 3)
    {
        foreach (var member in known.Where(s => s.Id != Id && !_members.ContainsKey(s.Id)))
        {
            SetMember(member with { Status = MemberStatus.Alive });
        }

        foreach (var peer in RandomMembers(syncWith, m => m.IsUp))
        {
            Send(new GossipMessage(GossipMessageType.PushPull, Id, peer) { State = Snapshot() });
        }

        _broadcasts.Enqueue(new MemberUpdate(Self, Id));
    }

    /// <summary>Declares this node gone for good (a higher incarnation, status Left); keep ticking a little so the news spreads.</summary>
    public void Leave()
    {
        _leaving = true;
        Self = Self with { Incarnation = Self.Incarnation + 1, Status = MemberStatus.Left };
        _members[Id] = Self;
        _broadcasts.Enqueue(new MemberUpdate(Self, Id));
    }

    public IReadOnlyList<GossipMessage> TakeMessages()
    {
        var messages = _outbox.ToArray();
        _outbox.Clear();
        return messages;
    }

    public IReadOnlyList<MemberEvent> TakeEvents()
    {
        var events = _events.ToArray();
        _events.Clear();
        return events;
    }

    public void Tick()
    {
        _tick++;
        var t = _tick + _phase;
        if (t % _settings.ProbeIntervalTicks == 0)
        {
            FinishProbe();
            StartProbe();
        }
        else if (_probe is { Acked: false, Indirect: false } probe && _tick - probe.StartTick >= _settings.ProbeTimeoutTicks)
        {
            ProbeIndirectly(probe.Target, probe.Seq);
        }

        ExpireSuspicions();
        if (t % _settings.GossipIntervalTicks == 0 && _broadcasts.Count > 0)
        {
            foreach (var peer in RandomMembers(_settings.GossipFanout, m => m.IsUp))
            {
                Send(new GossipMessage(GossipMessageType.Gossip, Id, peer));
            }
        }

        if (!_synced && t % _settings.ProbeIntervalTicks == 0)
        {
            // The join's exchange (or its answer) was lost: ask again each probe interval, not
            // only at the next full sync, until some member's whole list has arrived.
            foreach (var peer in RandomMembers(1, m => m.IsUp))
            {
                Send(new GossipMessage(GossipMessageType.PushPull, Id, peer) { State = Snapshot() });
            }
        }

        if (t % _settings.PushPullIntervalTicks == 0)
        {
            foreach (var peer in RandomMembers(1, m => m.IsUp))
            {
                Send(new GossipMessage(GossipMessageType.PushPull, Id, peer) { State = Snapshot() });
            }
        }

        if (t % _settings.ReconnectIntervalTicks == 0)
        {
            // One member declared dead (not left), so the two sides of a healed partition find
            // each other again: the "dead" one learns what is said of it and refutes.
            foreach (var peer in RandomMembers(1, m => m.Status == MemberStatus.Dead))
            {
                Send(new GossipMessage(GossipMessageType.PushPull, Id, peer) { State = Snapshot() });
            }
        }

        foreach (var seq in _relays.Where(r => r.Value.ExpiresTick <= _tick).Select(r => r.Key).ToList())
        {
            _relays.Remove(seq);
        }
    }

    public void Step(GossipMessage message)
    {
        if (message.To != Id || message.From == Id)
        {
            return;
        }

        if (!_detectors.TryGetValue(message.From, out var detector))
        {
            detector = new PhiAccrualFailureDetector(_phiSettings);
            _detectors[message.From] = detector;
        }

        // One heartbeat per tick at most: several messages within one tick are one sign of life,
        // not intervals of 0 ms that would shrink the model's mean and deviation.
        if (detector.LastHeartbeatMs != NowMs)
        {
            detector.Heartbeat(NowMs);
        }

        foreach (var update in message.Updates)
        {
            Apply(update);
        }

        switch (message.Type)
        {
            case GossipMessageType.Ping:
                Send(new GossipMessage(GossipMessageType.Ack, Id, message.From) { Seq = message.Seq });
                break;
            case GossipMessageType.Ack:
                if (_probe is { } probe && probe.Seq == message.Seq)
                {
                    _probe = probe with { Acked = true };
                }
                else if (_relays.Remove(message.Seq, out var relay))
                {
                    Send(new GossipMessage(GossipMessageType.Ack, Id, relay.Requester) { Seq = relay.Seq });
                }

                break;
            case GossipMessageType.PingReq:
                var seq = ++_nextSeq;
                _relays[seq] = (message.From, message.Seq, _tick + _settings.ProbeIntervalTicks);
                Send(new GossipMessage(GossipMessageType.Ping, Id, message.Target) { Seq = seq });
                break;
            case GossipMessageType.PushPull:
                _synced = true;
                MergeState(message.State, message.From);
                Send(new GossipMessage(GossipMessageType.PushPullReply, Id, message.From) { State = Snapshot() });
                break;
            case GossipMessageType.PushPullReply:
                _synced = true;
                MergeState(message.State, message.From);
                break;
            case GossipMessageType.Gossip:
                break;
        }
    }

    private void StartProbe()
    {
        if (_probeIndex >= _probeOrder.Count)
        {
            _probeOrder.Clear();
            _probeOrder.AddRange(_others.Where(id => _members[id].IsUp));
            Shuffle(_probeOrder);
            _probeIndex = 0;
        }

        while (_probeIndex < _probeOrder.Count)
        {
            var target = _probeOrder[_probeIndex++];
            if (_members.TryGetValue(target, out var member) && member.IsUp)
            {
                var seq = ++_nextSeq;
                _probe = (target, seq, _tick, false, false);
                Send(new GossipMessage(GossipMessageType.Ping, Id, target) { Seq = seq }, tellSuspect: member);
                return;
            }
        }

        _probe = null;
    }

    private void ProbeIndirectly(ulong target, ulong seq)
    {
        _probe = _probe!.Value with { Indirect = true };
        foreach (var peer in RandomMembers(_settings.IndirectProbes, m => m.Status == MemberStatus.Alive && m.Id != target))
        {
            Send(new GossipMessage(GossipMessageType.PingReq, Id, peer) { Seq = seq, Target = target });
        }
    }

    private void FinishProbe()
    {
        if (_probe is { Acked: false } probe && _members.TryGetValue(probe.Target, out var member) && member.IsUp && !_leaving)
        {
            ApplySuspect(member with { Status = MemberStatus.Suspect }, Id);
        }

        _probe = null;
    }

    private void ExpireSuspicions()
    {
        foreach (var (id, suspicion) in _suspicions.Where(s => s.Value.DeadlineTick <= _tick).ToList())
        {
            _suspicions.Remove(id);
            if (_members.TryGetValue(id, out var member) && member.Status == MemberStatus.Suspect && member.Incarnation == suspicion.Incarnation)
            {
                var dead = member with { Status = MemberStatus.Dead };
                SetMember(dead);
                _broadcasts.Enqueue(new MemberUpdate(dead, Id));
            }
        }
    }

    private void MergeState(IReadOnlyList<GossipMember> state, ulong from)
    {
        foreach (var member in state)
        {
            // A peer's verdict of death is taken as suspicion here, which the member can still
            // refute: one node's stale view does not kill a member outright. Leaving is final, and
            // a peer lists a member as left only on the member's own word.
            // The suspicion is this node's own (as memberlist does): a peer passing on a rumour in
            // its list is not an independent confirmation, or every sync would shorten the timeout.
            Apply(member.Status switch
            {
                MemberStatus.Dead => new MemberUpdate(member with { Status = MemberStatus.Suspect }, Id),
                MemberStatus.Suspect => new MemberUpdate(member, Id),
                MemberStatus.Left => new MemberUpdate(member, member.Id),
                _ => new MemberUpdate(member, from),
            });
        }
    }

    private void Apply(MemberUpdate update)
    {
        switch (update.Member.Status)
        {
            case MemberStatus.Alive:
                ApplyAlive(update.Member);
                break;
            case MemberStatus.Suspect:
                ApplySuspect(update.Member, update.Source);
                break;
            default:
                ApplyDead(update.Member, update.Source);
                break;
        }
    }

    private void ApplyAlive(GossipMember member)
    {
        if (member.Id == Id)
        {
            // An earlier life of this node announced a higher incarnation: outbid it.
            if (member.Incarnation > Self.Incarnation && !_leaving)
            {
                Refute(member.Incarnation);
            }

            return;
        }

        var current = _members.GetValueOrDefault(member.Id);
        if (current is not null && member.Incarnation <= current.Incarnation)
        {
            return;
        }

        _suspicions.Remove(member.Id);
        SetMember(member);
        _broadcasts.Enqueue(new MemberUpdate(member, member.Id));
    }

    private void ApplySuspect(GossipMember member, ulong source)
    {
        if (member.Id == Id)
        {
            if (member.Incarnation >= Self.Incarnation && !_leaving)
            {
                Refute(member.Incarnation);
            }

            return;
        }

        if (_members.GetValueOrDefault(member.Id) is not { } current)
        {
            // News of a member never heard of (a full list from a peer): it exists, and is suspect.
            current = member with { Status = MemberStatus.Alive };
        }
        else if (member.Incarnation < current.Incarnation || !current.IsUp)
        {
            return;
        }

        if (current.Status == MemberStatus.Suspect && member.Incarnation == current.Incarnation)
        {
            // A new confirmation is passed on while it still shortens the timeout; past the
            // expected number it changes nothing, and passing it on would only crowd out news
            // that matters (under heavy loss, the refutations).
            if (_suspicions.TryGetValue(member.Id, out var existing) && existing.Confirm(source) && !existing.FullyConfirmed)
            {
                _broadcasts.Enqueue(new MemberUpdate(current, source));
            }

            return;
        }

        var suspect = current with { Status = MemberStatus.Suspect, Incarnation = member.Incarnation };
        var up = Math.Max(1, UpCount);
        var minTicks = (long)Math.Ceiling(_settings.SuspicionMultiplier * Math.Max(1, Math.Log10(up)) * _settings.ProbeIntervalTicks);
        var expected = Math.Min(_settings.SuspicionMultiplier - 2, up - 2);
        _suspicions[member.Id] = new Suspicion(member.Incarnation, source, _tick, expected, minTicks, minTicks * _settings.SuspicionMaxMultiplier);
        SetMember(suspect);
        _broadcasts.Enqueue(new MemberUpdate(suspect, source));
    }

    private void ApplyDead(GossipMember member, ulong source)
    {
        if (member.Id == Id)
        {
            if (member.Incarnation >= Self.Incarnation && !_leaving)
            {
                Refute(member.Incarnation);
            }

            return;
        }

        var current = _members.GetValueOrDefault(member.Id);
        if (current is not null && member.Incarnation < current.Incarnation)
        {
            return;
        }

        // Only a member declares itself left; anyone else's word is death. Death can still turn
        // into leaving (the member's own word), never the other way.
        var status = member.Status == MemberStatus.Left && source == member.Id ? MemberStatus.Left : MemberStatus.Dead;
        if (current is { Status: MemberStatus.Left } || (current is { Status: MemberStatus.Dead } && status == MemberStatus.Dead))
        {
            // Still gone, but at a higher incarnation: remember it, so a stale Alive below it
            // cannot bring the member back.
            if (current.Status == MemberStatus.Dead && member.Incarnation > current.Incarnation)
            {
                _members[member.Id] = current with { Incarnation = member.Incarnation };
            }

            return;
        }

        _suspicions.Remove(member.Id);
        var gone = (current ?? member) with { Status = status, Incarnation = member.Incarnation };
        SetMember(gone);
        _broadcasts.Enqueue(new MemberUpdate(gone, source));
    }

    private void Refute(ulong incarnation)
    {
        Self = Self with { Incarnation = Math.Max(Self.Incarnation, incarnation) + 1, Status = MemberStatus.Alive };
        _members[Id] = Self;
        _broadcasts.Enqueue(new MemberUpdate(Self, Id));
    }

    private void SetMember(GossipMember member)
    {
        var previous = _members.GetValueOrDefault(member.Id);
        _members[member.Id] = member;
        if (previous is null)
        {
            var at = _others.BinarySearch(member.Id);
            _others.Insert(~at, member.Id);
        }

        if (previous is null || previous.Status != member.Status)
        {
            _events.Add(new MemberEvent(member, previous?.Status));
        }
    }

    /// <param name="message">The message, without updates: they are added here.</param>
    /// <param name="tellSuspect">
    /// The member a ping goes to: if it is suspect here, the ping tells it so (Lifeguard's buddy
    /// system), so it can refute at once instead of waiting for the rumour to reach it.
    /// </param>
    private void Send(GossipMessage message, GossipMember? tellSuspect = null)
    {
        var limit = _settings.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(_members.Count + 1));
        var updates = _broadcasts.Take(_settings.MaxPiggyback, Math.Max(1, limit));
        if (tellSuspect is { Status: MemberStatus.Suspect } suspect && !updates.Any(u => u.Member.Id == suspect.Id))
        {
            updates = [.. updates, new MemberUpdate(suspect, Id)];
        }

        _outbox.Add(message with { Updates = updates });
    }

    private List<GossipMember> Snapshot() => _members.Values.OrderBy(m => m.Id).ToList();

    /// <summary>
    /// Up to <paramref name="count"/> distinct other members passing <paramref name="filter"/>, at
    /// random: drawn by index when most members pass (cheap with a thousand members), else from a
    /// shuffle of those that pass.
    /// </summary>
    private List<ulong> RandomMembers(int count, Func<GossipMember, bool> filter)
    {
        var chosen = new List<ulong>(count);
        for (var attempt = 0; attempt < 4 * count && chosen.Count < count && _others.Count > 0; attempt++)
        {
            var id = _others[_random.Next(_others.Count)];
            if (!chosen.Contains(id) && filter(_members[id]))
            {
                chosen.Add(id);
            }
        }

        if (chosen.Count == count)
        {
            return chosen;
        }

        var candidates = _others.Where(id => filter(_members[id])).ToList();
        Shuffle(candidates);
        return candidates.Count > count ? candidates.GetRange(0, count) : candidates;
    }

    private void Shuffle(List<ulong> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
