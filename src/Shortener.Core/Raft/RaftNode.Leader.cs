namespace Shortener.Core.Raft;

/// <summary>The leader's half: proposals, replication, commit, heartbeats, reads, snapshots and transfer.</summary>
public sealed partial class RaftNode
{
    private void StepLeader(RaftMessage m)
    {
        switch (m.Type)
        {
            case MessageType.Beat:
                BroadcastHeartbeat(_readOnly.LastContext ?? []);
                return;
            case MessageType.CheckQuorum:
                if (!_tracker.QuorumActive(Id))
                {
                    BecomeFollower(Term, None);
                    return;
                }

                foreach (var (id, p) in _tracker.Progress)
                {
                    if (id != Id)
                    {
                        p.RecentActive = false;
                    }
                }

                return;
            case MessageType.Propose:
                ProposeAsLeader(m);
                return;
            case MessageType.ReadIndex:
                LeaderReadIndex(m);
                return;
        }

        if (!_tracker.Progress.TryGetValue(m.From, out var pr))
        {
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppendResponse:
                HandleAppendResponse(m, pr);
                return;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m, pr);
                return;
            case MessageType.SnapshotResponse:
                HandleSnapshotResponse(m, pr);
                return;
            case MessageType.TransferLeader:
                StartTransfer(m.From, pr);
                return;
        }
    }

    private ProposalResult ProposeAsLeader(RaftMessage m)
    {
        if (!_tracker.Progress.ContainsKey(Id))
        {
            return Dropped("this replica is no longer a member");
        }

        if (LeadTransferee != None)
        {
            return Dropped($"leadership is being transferred to {LeadTransferee}");
        }

        foreach (var entry in m.Entries)
        {
            if (entry.Type != EntryType.ConfChange)
            {
                continue;
            }

            if (_pendingConfIndex > _log.Applied)
            {
                return Dropped($"a membership change is still pending (index {_pendingConfIndex}, applied {_log.Applied})");
            }

            var change = ConfChange.Decode(entry.Data);
            if (new ConfChanger(_tracker, _log.LastIndex).Check(change) is { } why)
            {
                return Dropped($"invalid membership change: {why}");
            }
        }

        if (!AppendEntries(m.Entries))
        {
            return Dropped($"too many uncommitted bytes (limit {_config.MaxUncommittedEntriesSize})");
        }

        if (m.Entries.Any(e => e.Type == EntryType.ConfChange))
        {
            _pendingConfIndex = _log.LastIndex;
        }

        BroadcastAppend();
        return new ProposalResult(ProposalStatus.Appended, _log.LastIndex, Term, Id);

        ProposalResult Dropped(string reason) => new(ProposalStatus.Dropped, LeaderHint: Id, Reason: reason);
    }

    /// <summary>Appends entries as the leader; false (nothing appended) when over the uncommitted-size limit.</summary>
    private bool AppendEntries(IReadOnlyList<RaftEntry> entries)
    {
        long size = entries.Sum(e => (long)e.PayloadSize);
        if (_uncommittedSize > 0 && size > 0 && _uncommittedSize + size > _config.MaxUncommittedEntriesSize)
        {
            return false;
        }

        _uncommittedSize += size;
        var last = _log.LastIndex;
        var stamped = new RaftEntry[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            stamped[i] = entries[i] with { Term = Term, Index = last + 1 + (ulong)i };
        }

        _log.Append(stamped);
        return true;
    }

    private bool MaybeCommit() =>
        _log.MaybeCommit(_tracker.Committed(), Term, _config.Bugs.HasFlag(RaftBugs.CommitPreviousTermByCounting));

    private bool CommittedInCurrentTerm => _log.Term(_log.Committed) == Term;

    private void OnCommitAdvanced()
    {
        if (_readsWaitingForTermCommit.Count > 0 && CommittedInCurrentTerm)
        {
            var waiting = _readsWaitingForTermCommit.ToList();
            _readsWaitingForTermCommit.Clear();
            foreach (var read in waiting)
            {
                LeaderReadIndex(read);
            }
        }

        BroadcastAppend();
    }

    private void HandleAppendResponse(RaftMessage m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject)
        {
            var next = m.RejectHint;
            if (m.LogTerm > 0)
            {
                // The follower's entry at the hint has term LogTerm: skip to where ours could match.
                next = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (pr.MaybeDecreaseTo(m.Index, next))
            {
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }

                MaybeSendAppend(m.From, sendIfEmpty: true);
            }

            return;
        }

        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State == ProgressState.Probe))
        {
            return;
        }

        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= _log.FirstIndex:
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }

        if (MaybeCommit())
        {
            OnCommitAdvanced();
        }
        else if (wasPaused)
        {
            // It may have missed a commit index while paused: send one, even without entries.
            MaybeSendAppend(m.From, sendIfEmpty: true);
        }

        // Keep the pipe full while there is more to send.
        while (MaybeSendAppend(m.From, sendIfEmpty: false))
        {
        }

        if (m.From == LeadTransferee && pr.Match == _log.LastIndex)
        {
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(RaftMessage m, Progress pr)
    {
        pr.RecentActive = true;
        pr.ProbeSent = false;
        pr.LastAckedHeartbeatTick = Math.Max(pr.LastAckedHeartbeatTick, m.SentAtTick);
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full)
        {
            // Acks may have been lost: the follower is alive, so let one more append through.
            pr.Inflights.FreeFirstOne();
        }

        if (pr.State == ProgressState.Snapshot && pr.SnapshotChunkInFlight && _ticks - pr.SnapshotChunkSentAt >= (ulong)Math.Max(2, ElectionTimeout / 2))
        {
            // No answer for half an election timeout: the chunk (or its answer) is lost; send it again.
            SendSnapshotChunk(m.From, pr);
        }
        else if (pr.Match < _log.LastIndex)
        {
            MaybeSendAppend(m.From, sendIfEmpty: true);
        }

        // Reads confirmed by a heartbeat round: all of them in Safe mode, and in lease mode those
        // that came while the lease was not valid.
        if (m.Context.Length > 0)
        {
            var acks = _readOnly.Ack(m.From, m.Context);
            if (acks is not null && _tracker.Config.Voters.Vote(WithSelf(acks)) == VoteResult.Won)
            {
                foreach (var (index, request) in _readOnly.Advance(m.Context))
                {
                    RespondToRead(request, index);
                }
            }
        }
    }

    private Dictionary<ulong, bool> WithSelf(IReadOnlyDictionary<ulong, bool> acks) =>
        new(acks) { [Id] = true };

    private void LeaderReadIndex(RaftMessage m)
    {
        if (_tracker.IsSingleton)
        {
            RespondToRead(m, _log.Committed);
            return;
        }

        if (!CommittedInCurrentTerm && !_config.Bugs.HasFlag(RaftBugs.ReadIndexBeforeTermCommit))
        {
            // Our commit index may lag the previous leader's until our no-op commits.
            _readsWaitingForTermCommit.Add(m);
            return;
        }

        if ((_config.ReadOnlyOption == ReadOnlyOption.LeaseBased && LeaseValid()) || _config.Bugs.HasFlag(RaftBugs.ReadIndexWithoutHeartbeat))
        {
            RespondToRead(m, _log.Committed);
            return;
        }

        _readOnly.Add(_log.Committed, m);
        BroadcastHeartbeat(m.Context);
    }

    /// <summary>
    /// The lease holds while fewer than an election timeout of ticks have passed since the send
    /// time of the heartbeats a quorum has acknowledged: until then no voter of that quorum can have
    /// voted for anyone else (they refuse votes for an election timeout after hearing from us),
    /// provided ticks run at the same rate everywhere. (A replica that restarts refuses votes for an
    /// election timeout too.) Once this leader has sent TimeoutNow its lease is gone for the term:
    /// that message, however late it arrives, lets its target win votes despite any lease.
    /// </summary>
    private bool LeaseValid()
    {
        if (_leaseRevoked || LeadTransferee != None)
        {
            return false;
        }

        var start = _tracker.Config.Voters.CommittedIndex(id =>
            id == Id ? _ticks : _tracker.Progress.TryGetValue(id, out var p) ? p.LastAckedHeartbeatTick : 0);
        return start > 0 && _ticks < start + (ulong)ElectionTimeout - 1;
    }

    private void RespondToRead(RaftMessage request, ulong index)
    {
        if (request.From == None || request.From == Id)
        {
            _readStates.Add(new ReadState(index, request.Context));
        }
        else
        {
            Send(new RaftMessage { Type = MessageType.ReadIndexResponse, To = request.From, Index = index, Context = request.Context });
        }
    }

    private void HandleSnapshotResponse(RaftMessage m, Progress pr)
    {
        pr.RecentActive = true;
        if (pr.State != ProgressState.Snapshot || m.SnapshotMetadata?.Index != pr.PendingSnapshot)
        {
            return;
        }

        if (!m.SnapshotDone && (long)m.Index != pr.SnapshotOffset)
        {
            // The answer to a chunk sent earlier (a duplicate, or one overtaken by a resend).
            return;
        }

        pr.SnapshotChunkInFlight = false;
        if (m.SnapshotDone)
        {
            pr.BecomeProbe();
            pr.MaybeUpdate(m.Index);
            MaybeSendAppend(m.From, sendIfEmpty: true);
            return;
        }

        pr.SnapshotOffset = m.SnapshotOffset;
        SendSnapshotChunk(m.From, pr);
    }

    private void StartTransfer(ulong transferee, Progress pr)
    {
        if (pr.IsLearner || transferee == Id || transferee == LeadTransferee)
        {
            return;
        }

        _electionElapsed = 0;
        LeadTransferee = transferee;
        if (pr.Match == _log.LastIndex)
        {
            SendTimeoutNow(transferee);
        }
        else
        {
            MaybeSendAppend(transferee, sendIfEmpty: true);
        }
    }

    private void SendTimeoutNow(ulong to)
    {
        _leaseRevoked = true;
        Send(new RaftMessage { Type = MessageType.TimeoutNow, To = to });
    }

    private void BroadcastAppend()
    {
        foreach (var id in _tracker.Ids)
        {
            if (id != Id)
            {
                MaybeSendAppend(id, sendIfEmpty: true);
            }
        }
    }

    private void BroadcastHeartbeat(byte[] context)
    {
        foreach (var id in _tracker.Ids)
        {
            if (id == Id)
            {
                continue;
            }

            var pr = _tracker.Progress[id];

            // Never tell a follower to commit beyond what it is known to have. Index carries the
            // leader's own commit index, which Raft does not use: drivers date their staleness by it.
            Send(new RaftMessage
            {
                Type = MessageType.Heartbeat,
                From = Id,
                To = id,
                Term = Term,
                Commit = Math.Min(pr.Match, _log.Committed),
                Index = _log.Committed,
                Context = context,
                SentAtTick = _ticks,
            });
        }
    }

    /// <summary>Sends <paramref name="to"/> the next append (or snapshot) if its progress allows; true if something was sent.</summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        var pr = _tracker.Progress[to];
        if (pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        var prevTerm = _log.Term(prevIndex);
        IReadOnlyList<RaftEntry> entries = [];
        var needSnapshot = prevTerm is null;
        if (!needSnapshot && pr.Next <= _log.LastIndex)
        {
            try
            {
                entries = _log.Slice(pr.Next, _log.LastIndex + 1, _config.MaxSizePerMessage);
            }
            catch (RaftCompactedException)
            {
                needSnapshot = true;
            }
        }

        if (needSnapshot)
        {
            if (!pr.RecentActive)
            {
                return false;
            }

            var snapshot = _log.Snapshot();
            if (snapshot.IsEmpty)
            {
                throw new InvalidOperationException($"follower {to} needs entries below {_log.FirstIndex} but there is no snapshot");
            }

            pr.BecomeSnapshot(snapshot);
            SendSnapshotChunk(to, pr);
            return true;
        }

        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        Send(new RaftMessage
        {
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm!.Value,
            Entries = entries,
            Commit = _log.Committed,
        });
        pr.SentEntries(entries.Count == 0 ? prevIndex : entries[^1].Index);
        return true;
    }

    private void SendSnapshotChunk(ulong to, Progress pr)
    {
        var snapshot = pr.SnapshotBeingSent ?? throw new InvalidOperationException($"no snapshot is being sent to {to}");
        var offset = (int)Math.Min(pr.SnapshotOffset, snapshot.Data.Length);
        var length = Math.Min(_config.SnapshotChunkSize, snapshot.Data.Length - offset);
        Send(new RaftMessage
        {
            Type = MessageType.Snapshot,
            To = to,
            SnapshotMetadata = snapshot.Metadata,
            SnapshotOffset = offset,
            SnapshotChunk = snapshot.Data.AsSpan(offset, length).ToArray(),
            SnapshotDone = offset + length == snapshot.Data.Length,
        });
        pr.SnapshotChunkInFlight = true;
        pr.SnapshotChunkSentAt = _ticks;
    }
}
