namespace Shortener.Core.Raft;

/// <summary>
/// One Raft replica as a pure state machine (see docs/raft.md). Inputs: <see cref="Tick"/>,
/// <see cref="Step"/>, and local requests; outputs: <see cref="GetReady"/>. Single-threaded: the
/// driver makes every call from one thread and does not call anything but <see cref="Advance"/>
/// between <see cref="GetReady"/> and <see cref="Advance"/>.
/// </summary>
public sealed partial class RaftNode
{
    public const ulong None = 0;

    /// <summary>The context of a vote request made for a leadership transfer: it overrides leases.</summary>
    private static readonly byte[] TransferContext = "transfer"u8.ToArray();

    private static readonly IReadOnlyDictionary<ulong, string> NoProgress = new Dictionary<ulong, string>();

    private static readonly IReadOnlyDictionary<ulong, ulong> NoMatch = new Dictionary<ulong, ulong>();

    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly ProgressTracker _tracker;
    private readonly List<RaftMessage> _messages = [];
    private readonly List<ReadState> _readStates = [];
    private readonly List<RaftMessage> _readsWaitingForTermCommit = [];
    private ReadOnlyQueue _readOnly = new();
    private SnapshotAssembly? _incomingSnapshot;

    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private ulong _ticks;
    private ulong _pendingConfIndex;
    private long _uncommittedSize;
    private bool _startupEmbargo;
    private bool _leaseRevoked;
    private HardState _prevHardState;
    private SoftState _prevSoftState;

    public RaftNode(RaftConfig config, IRaftStorage storage)
    {
        config.Validate();
        _config = config;
        _log = new RaftLog(storage, config.Bugs.HasFlag(RaftBugs.ApplyPastCommit));
        _tracker = new ProgressTracker(config.MaxInflightMessages);
        var (hardState, confState) = storage.InitialState();
        SwitchToConfig(TrackerConfig.From(confState), NewProgressMap(TrackerConfig.From(confState)));
        if (!hardState.IsEmpty)
        {
            // A crash between writing a received snapshot and the hard state after it leaves the
            // stored commit index below the snapshot; the snapshot itself proves it is committed.
            if (hardState.Commit > _log.LastIndex)
            {
                throw new InvalidOperationException($"stored commit {hardState.Commit} is beyond the last log index {_log.LastIndex}: the log lost entries it had committed");
            }

            _log.CommitTo(hardState.Commit);
            Term = hardState.Term;
            Vote = hardState.Vote;
        }

        // The log already counts everything up to its snapshot as applied: the driver restores its
        // state from a stored snapshot newer than what it applied before it starts the engine.
        if (config.Applied > _log.Applied)
        {
            var snapshotIndex = _log.Applied;
            _log.AppliedTo(Math.Min(config.Applied, _log.Committed));

            // Membership changes applied after the snapshot live only in the log: apply them again,
            // or this replica would restart with the snapshot's (older) configuration.
            if (_log.Applied > snapshotIndex && !config.Bugs.HasFlag(RaftBugs.ForgetMembershipOnRestart))
            {
                foreach (var entry in _log.Slice(snapshotIndex + 1, _log.Applied + 1, long.MaxValue).Where(e => e.Type == EntryType.ConfChange))
                {
                    ApplyConfChange(ConfChange.Decode(entry.Data));
                }
            }
        }

        BecomeFollower(Term, None);

        // Just started, this replica cannot know whether it heard from a leader a moment ago: under
        // lease reads it may have promised that leader a lease, so it refuses votes for one election
        // timeout (a restart must not shorten a lease).
        _startupEmbargo = config.ReadOnlyOption == ReadOnlyOption.LeaseBased;
        _prevHardState = CurrentHardState;
        _prevSoftState = CurrentSoftState;
    }

    public ulong Id => _config.Id;

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    /// <summary>The leader this replica knows of, or <see cref="None"/>.</summary>
    public ulong Lead { get; private set; }

    public RaftRole Role { get; private set; }

    public ulong Committed => _log.Committed;

    public ulong Applied => _log.Applied;

    public ulong LastIndex => _log.LastIndex;

    /// <summary>The first index still held as an entry (below it: the snapshot).</summary>
    public ulong FirstIndex => _log.FirstIndex;

    /// <summary>On a leader, the sum of how far each replica's log is known to match: within a term it grows whenever one does (a cheap look at whether any moved).</summary>
    internal ulong SumOfMatches()
    {
        ulong sum = 0;
        foreach (var progress in _tracker.Progress.Values)
        {
            sum += progress.Match;
        }

        return sum;
    }

    /// <summary>The term of the entry at <paramref name="index"/>, or null if compacted or beyond the end. For checkers and status.</summary>
    public ulong? TermAt(ulong index) => _log.Term(index);

    public ulong LeadTransferee { get; private set; }

    public ConfState ConfState => _tracker.ConfState;

    private int ElectionTimeout => _config.ElectionTick;

    private HardState CurrentHardState => new(Term, Vote, _log.Committed);

    private SoftState CurrentSoftState => new(Lead, Role);

    /// <summary>True while this replica may campaign: a voter with no snapshot waiting to be persisted.</summary>
    private bool Promotable => _tracker.Progress.TryGetValue(Id, out var p) && !p.IsLearner && _log.UnstableSnapshot is null;

    public void Tick()
    {
        _ticks++;
        if (Role == RaftRole.Leader)
        {
            TickHeartbeat();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Starts an election now (tests, and a driver that knows better than the timer).</summary>
    public void Campaign() => Step(new RaftMessage { Type = MessageType.Hup, From = Id });

    public ProposalResult Propose(byte[] data) =>
        StepProposal(new RaftEntry(0, 0, EntryType.Normal, data));

    public ProposalResult ProposeConfChange(ConfChange change) =>
        StepProposal(new RaftEntry(0, 0, EntryType.ConfChange, change.Encode()));

    /// <summary>Asks for a linearizable read point; the answer arrives as a <see cref="ReadState"/> with this context.</summary>
    public void ReadIndex(byte[] requestContext) =>
        Step(new RaftMessage { Type = MessageType.ReadIndex, From = Id, Context = requestContext });

    public void TransferLeadership(ulong transferee) =>
        Step(new RaftMessage { Type = MessageType.TransferLeader, From = transferee, To = Id });

    /// <summary>
    /// On a leader: itself and the replicas that answered a heartbeat it sent within the last
    /// election timeout (a round trip, so a peer that can speak but not hear is not among them).
    /// Unlike <see cref="Progress.RecentActive"/>, which check-quorum clears every election timeout,
    /// this does not depend on when it is asked. Empty on a follower.
    /// </summary>
    public IReadOnlySet<ulong> RecentlyAcked() =>
        Role != RaftRole.Leader
            ? new HashSet<ulong>()
            : _tracker.Progress
                .Where(p => p.Key == Id || (p.Value.LastAckedHeartbeatTick > 0 && p.Value.LastAckedHeartbeatTick + (ulong)ElectionTimeout >= _ticks))
                .Select(p => p.Key)
                .ToHashSet();

    /// <summary>The transport could not reach <paramref name="id"/>: stop streaming to it and probe.</summary>
    public void ReportUnreachable(ulong id)
    {
        if (Role == RaftRole.Leader && _tracker.Progress.TryGetValue(id, out var p) && p.State == ProgressState.Replicate)
        {
            p.BecomeProbe();
        }
    }

    /// <summary>
    /// Applies a committed membership change (the application calls this when it applies the
    /// entry) and returns the resulting configuration, which the application persists with its state.
    /// </summary>
    public ConfState ApplyConfChange(ConfChange change)
    {
        var (config, progress) = new ConfChanger(_tracker, _log.LastIndex).Apply(change);
        SwitchToConfig(config, progress);
        return _tracker.ConfState;
    }

    /// <param name="describeProgress">Whether to describe each replica's progress in words (for
    /// diagnostics; a driver that refreshes its status every round leaves it out).</param>
    public RaftStatus Status(bool describeProgress = true) => new(
        Id,
        Role,
        Term,
        Vote,
        Lead,
        _log.Committed,
        _log.Applied,
        _log.LastIndex,
        _tracker.ConfState,
        Role == RaftRole.Leader && describeProgress ? _tracker.Progress.ToDictionary(p => p.Key, p => p.Value.ToString()) : NoProgress,
        LeadTransferee,
        Role == RaftRole.Leader ? _tracker.Progress.ToDictionary(p => p.Key, p => p.Value.Match) : NoMatch);

    /// <summary>Feeds a message into the state machine.</summary>
    public void Step(RaftMessage m)
    {
        if (m.Term == 0)
        {
            // Local message.
        }
        else if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                var force = m.Context.AsSpan().SequenceEqual(TransferContext);
                var inLease = _config.CheckQuorum && (Lead != None || _startupEmbargo) && _electionElapsed < ElectionTimeout;
                if (!force && inLease)
                {
                    // We heard from a live leader within the election timeout: refuse to help
                    // depose it, and do not even adopt the higher term (pre-vote's purpose).
                    return;
                }
            }

            if (m.Type == MessageType.PreVote)
            {
                // A pre-vote never changes our term.
            }
            else if (m.Type == MessageType.PreVoteResponse && !m.Reject)
            {
                // We asked with term+1; a grant carries that term. We take it when we campaign for real.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, None);
            }
        }
        else if (m.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.Heartbeat or MessageType.Append)
            {
                // A deposed leader that missed the election: tell it our term so it steps down.
                Send(new RaftMessage { Type = MessageType.AppendResponse, To = m.From });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new RaftMessage { Type = MessageType.PreVoteResponse, To = m.From, Term = Term, Reject = true });
            }

            return;
        }

        switch (m.Type)
        {
            case MessageType.Hup:
                Hup(m.Context.AsSpan().SequenceEqual(TransferContext));
                return;
            case MessageType.Vote or MessageType.PreVote:
                HandleVoteRequest(m);
                return;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(m);
                break;
            case RaftRole.Candidate or RaftRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    private ProposalResult StepProposal(RaftEntry entry)
    {
        var m = new RaftMessage { Type = MessageType.Propose, From = Id, Entries = [entry] };
        switch (Role)
        {
            case RaftRole.Leader:
                return ProposeAsLeader(m);
            case RaftRole.Follower when Lead != None && !_config.DisableProposalForwarding:
                Send(m with { To = Lead });
                return new ProposalResult(ProposalStatus.Forwarded, LeaderHint: Lead);
            default:
                return new ProposalResult(ProposalStatus.NotLeader, LeaderHint: Lead, Reason: Lead == None ? "no leader is known" : "this replica does not forward proposals");
        }
    }

    private void HandleVoteRequest(RaftMessage m)
    {
        var canVote = Vote == m.From
            || (Vote == None && Lead == None)
            || (m.Type == MessageType.PreVote && m.Term > Term);
        var upToDate = _config.Bugs.HasFlag(RaftBugs.VoteWithoutLogCheck) || _log.IsUpToDate(m.Index, m.LogTerm);
        var response = m.Type == MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
        if (canVote && upToDate)
        {
            // A granted pre-vote answers with the term asked about, so the candidate can count it.
            Send(new RaftMessage { Type = response, To = m.From, Term = m.Term });
            if (m.Type == MessageType.Vote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new RaftMessage { Type = response, To = m.From, Term = Term, Reject = true });
        }
    }

    private void TickElection()
    {
        _electionElapsed++;
        if (_electionElapsed >= ElectionTimeout)
        {
            _startupEmbargo = false;
        }

        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Step(new RaftMessage { Type = MessageType.Hup, From = Id });
        }
    }

    private void TickHeartbeat()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= ElectionTimeout)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                Step(new RaftMessage { Type = MessageType.CheckQuorum, From = Id });
            }

            if (Role == RaftRole.Leader && LeadTransferee != None)
            {
                // The transfer did not finish within an election timeout.
                LeadTransferee = None;
            }
        }

        if (Role != RaftRole.Leader)
        {
            return;
        }

        if (_heartbeatElapsed >= _config.HeartbeatTick)
        {
            _heartbeatElapsed = 0;
            Step(new RaftMessage { Type = MessageType.Beat, From = Id });
        }
    }

    private void Hup(bool transfer)
    {
        if (Role == RaftRole.Leader || !Promotable)
        {
            return;
        }

        if (HasUnappliedConfChange())
        {
            // The configuration we would campaign under is about to change.
            return;
        }

        if (_config.PreVote && !transfer)
        {
            CampaignFor(preVote: true, transfer: false);
        }
        else
        {
            CampaignFor(preVote: false, transfer);
        }
    }

    private bool HasUnappliedConfChange()
    {
        if (_log.Committed <= _log.Applied)
        {
            return false;
        }

        var lo = Math.Max(_log.Applied + 1, _log.FirstIndex);
        var hi = Math.Min(_log.Committed, _log.LastIndex) + 1;
        return lo < hi && _log.Slice(lo, hi, long.MaxValue).Any(e => e.Type == EntryType.ConfChange);
    }

    private void CampaignFor(bool preVote, bool transfer)
    {
        ulong term;
        MessageType type;
        if (preVote)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            term = Term;
        }

        _tracker.RecordVote(Id, true);
        if (_tracker.TallyVotes().Result == VoteResult.Won)
        {
            // A single-voter configuration wins at once.
            if (preVote)
            {
                CampaignFor(preVote: false, transfer);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        foreach (var id in _tracker.VoterIds.Order())
        {
            if (id == Id)
            {
                continue;
            }

            Send(new RaftMessage
            {
                Type = type,
                To = id,
                Term = term,
                Index = _log.LastIndex,
                LogTerm = _log.LastTerm,
                Context = transfer ? TransferContext : [],
            });
        }
    }

    private void StepCandidate(RaftMessage m)
    {
        var myResponse = Role == RaftRole.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        switch (m.Type)
        {
            case MessageType.Propose:
                return;
            case MessageType.Append:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                return;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                return;
            case MessageType.Snapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshotChunk(m);
                return;
            case MessageType.PreVoteResponse or MessageType.VoteResponse when m.Type == myResponse:
                _tracker.RecordVote(m.From, !m.Reject);
                switch (_tracker.TallyVotes().Result)
                {
                    case VoteResult.Won:
                        if (Role == RaftRole.PreCandidate)
                        {
                            CampaignFor(preVote: false, transfer: false);
                        }
                        else
                        {
                            BecomeLeader();
                            BroadcastAppend();
                        }

                        break;
                    case VoteResult.Lost:
                        // Rejections carry the voter's term; a higher one was already adopted above.
                        BecomeFollower(Term, None);
                        break;
                }

                return;
        }
    }

    private void StepFollower(RaftMessage m)
    {
        switch (m.Type)
        {
            case MessageType.Propose:
                if (Lead != None && !_config.DisableProposalForwarding)
                {
                    Send(m with { To = Lead, Term = 0 });
                }

                return;
            case MessageType.Append:
                _electionElapsed = 0;
                Lead = m.From;
                HandleAppend(m);
                return;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                return;
            case MessageType.Snapshot:
                _electionElapsed = 0;
                Lead = m.From;
                HandleSnapshotChunk(m);
                return;
            case MessageType.TransferLeader:
                if (Lead != None)
                {
                    Send(m with { To = Lead, Term = 0 });
                }

                return;
            case MessageType.TimeoutNow:
                // Campaign at once, with a real vote: the leader asked us to take over.
                Hup(transfer: true);
                return;
            case MessageType.ReadIndex:
                if (_config.Bugs.HasFlag(RaftBugs.FollowerLocalReads))
                {
                    _readStates.Add(new ReadState(_log.Committed, m.Context));
                    return;
                }

                if (Lead != None)
                {
                    Send(m with { To = Lead, Term = 0 });
                }

                return;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(m.Index, m.Context));
                return;
        }
    }

    private void HandleAppend(RaftMessage m)
    {
        if (m.Index < _log.Committed)
        {
            Send(new RaftMessage { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.Committed });
            return;
        }

        if (_log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries) is { } lastNew)
        {
            Send(new RaftMessage { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = lastNew });
            return;
        }

        // Mismatch: suggest where to probe next, skipping a whole term of ours at a time.
        var (hintIndex, hintTerm) = _log.FindConflictByTerm(Math.Min(m.Index, _log.LastIndex), m.LogTerm);
        Send(new RaftMessage
        {
            Type = MessageType.AppendResponse,
            To = m.From,
            Index = m.Index,
            Reject = true,
            RejectHint = hintIndex,
            LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(RaftMessage m)
    {
        _log.CommitTo(Math.Min(m.Commit, _log.LastIndex));
        Send(new RaftMessage { Type = MessageType.HeartbeatResponse, From = Id, To = m.From, Term = Term, Context = m.Context, SentAtTick = m.SentAtTick });
    }

    private void HandleSnapshotChunk(RaftMessage m)
    {
        var meta = m.SnapshotMetadata ?? throw new InvalidOperationException("snapshot message without metadata");
        if (meta.Index <= _log.Committed)
        {
            // Already have everything it holds; tell the leader where we are.
            _incomingSnapshot = null;
            Send(new RaftMessage { Type = MessageType.SnapshotResponse, To = m.From, Index = _log.Committed, SnapshotDone = true, SnapshotMetadata = meta });
            return;
        }

        // Compared by position: a transport that deserialises messages hands over equal, not identical, metadata.
        if (_incomingSnapshot is null || _incomingSnapshot.Metadata.Index != meta.Index || _incomingSnapshot.Metadata.Term != meta.Term)
        {
            _incomingSnapshot = m.SnapshotOffset == 0 ? new SnapshotAssembly(meta) : null;
        }

        // Responses name the chunk they answer (Index) and the offset wanted next (SnapshotOffset).
        if (_incomingSnapshot is null || m.SnapshotOffset != _incomingSnapshot.Received)
        {
            // A chunk out of order (or of a snapshot we did not start): ask for what we need.
            Send(new RaftMessage { Type = MessageType.SnapshotResponse, To = m.From, SnapshotMetadata = meta, Index = (ulong)m.SnapshotOffset, SnapshotOffset = _incomingSnapshot?.Received ?? 0 });
            return;
        }

        _incomingSnapshot.Add(m.SnapshotChunk);
        if (!m.SnapshotDone)
        {
            Send(new RaftMessage { Type = MessageType.SnapshotResponse, To = m.From, SnapshotMetadata = meta, Index = (ulong)m.SnapshotOffset, SnapshotOffset = _incomingSnapshot.Received });
            return;
        }

        var snapshot = _incomingSnapshot.Complete();
        _incomingSnapshot = null;
        RestoreSnapshot(snapshot);

        // Only what is known to match: after a restore that is the snapshot; if our log already had
        // the snapshot's last entry, the commit index (entries after it may be a deposed leader's).
        Send(new RaftMessage { Type = MessageType.SnapshotResponse, To = m.From, Index = _log.Committed, SnapshotDone = true, SnapshotMetadata = meta, SnapshotOffset = m.SnapshotOffset });
    }

    private void RestoreSnapshot(RaftSnapshot snapshot)
    {
        var meta = snapshot.Metadata;
        if (_log.MatchTerm(meta.Index, meta.Term))
        {
            // Our log already has the snapshot's last entry: just move the commit index.
            _log.CommitTo(meta.Index);
            return;
        }

        _log.Restore(snapshot);
        var config = TrackerConfig.From(meta.ConfState);
        SwitchToConfig(config, NewProgressMap(config));
    }

    private void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        Lead = lead;
        Role = RaftRole.Follower;
    }

    private void BecomePreCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("leader cannot become pre-candidate");
        }

        // Neither the term nor the vote changes: a pre-vote disturbs nobody.
        _tracker.ResetVotes();
        Lead = None;
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("leader cannot become candidate");
        }

        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        if (Role == RaftRole.Follower)
        {
            throw new InvalidOperationException("follower cannot become leader");
        }

        Reset(Term);
        Lead = Id;
        Role = RaftRole.Leader;
        var self = _tracker.Progress[Id];
        self.BecomeReplicate();
        self.RecentActive = true;

        // Conservatively treat everything in the log as possibly a membership change, so none is
        // proposed until this term's first entry commits.
        _pendingConfIndex = _log.LastIndex;

        // The no-op of the new term: committing it commits everything before it (Raft §5.4.2).
        if (!AppendEntries([new RaftEntry(0, 0, EntryType.Normal, RaftEntry.NoData)]))
        {
            throw new InvalidOperationException("could not append the leader's empty entry");
        }
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = None;
        }

        Lead = None;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = ElectionTimeout + _config.Random.Next(ElectionTimeout);
        LeadTransferee = None;
        _leaseRevoked = false;
        _tracker.ResetVotes();
        foreach (var (id, _) in _tracker.Progress.ToList())
        {
            var old = _tracker.Progress[id];
            var fresh = new Progress(_log.LastIndex + 1, _tracker.MaxInflight, old.IsLearner);
            if (id == Id)
            {
                fresh.Match = _log.StableLastIndex;
            }

            _tracker.Progress[id] = fresh;
        }

        _pendingConfIndex = 0;
        _uncommittedSize = 0;
        _readOnly = new ReadOnlyQueue();
        _readsWaitingForTermCommit.Clear();
    }

    private Dictionary<ulong, Progress> NewProgressMap(TrackerConfig config)
    {
        var map = new Dictionary<ulong, Progress>();
        foreach (var id in config.Voters.AllVoters.Concat(config.Learners).Concat(config.LearnersNext).Distinct())
        {
            map[id] = new Progress(_log.LastIndex + 1, _tracker.MaxInflight, config.Learners.Contains(id));
        }

        return map;
    }

    private void SwitchToConfig(TrackerConfig config, Dictionary<ulong, Progress> progress)
    {
        foreach (var (id, p) in progress)
        {
            p.IsLearner = config.Learners.Contains(id);
        }

        _tracker.Apply(config, progress);
        if (Role != RaftRole.Leader)
        {
            return;
        }

        if (!config.Voters.Contains(Id))
        {
            // Removed (or demoted): stop leading; the remaining voters will elect a leader.
            BecomeFollower(Term, None);
            return;
        }

        if (LeadTransferee != None && !config.Voters.Contains(LeadTransferee))
        {
            LeadTransferee = None;
        }

        // The quorum changed: maybe more is committed now; bring new members up to date.
        if (MaybeCommit())
        {
            OnCommitAdvanced();
        }
        else
        {
            foreach (var id in _tracker.Ids)
            {
                if (id != Id)
                {
                    MaybeSendAppend(id, sendIfEmpty: false);
                }
            }
        }
    }

    private void Send(RaftMessage m)
    {
        var from = m.From == None ? Id : m.From;
        var term = m.Term;
        if (m.Type is not (MessageType.Propose or MessageType.ReadIndex or MessageType.TransferLeader) && term == 0)
        {
            // Vote responses and pre-vote requests set their own term; everything else carries ours.
            term = Term;
        }

        _messages.Add(m.From == from && m.Term == term ? m : m with { From = from, Term = term });
    }
}
