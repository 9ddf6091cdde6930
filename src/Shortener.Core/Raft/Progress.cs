namespace Shortener.Core.Raft;

/// <summary>The leader's view of one follower: how far its log matches, and how to send it more.</summary>
public sealed class Progress(ulong next, int maxInflight, bool isLearner)
{
    /// <summary>Highest index known to match the leader's log.</summary>
    public ulong Match { get; set; }

    /// <summary>Next index to send.</summary>
    public ulong Next { get; set; } = next;

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In Probe: an append was sent and we wait for its answer (or a heartbeat answer).</summary>
    public bool ProbeSent { get; set; }

    /// <summary>In Snapshot: the index of the snapshot being sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>
    /// In Snapshot: the snapshot being sent, kept to the end of its transfer even when the leader
    /// takes a newer one meanwhile; starting over with each newer one, a follower whose transfer
    /// takes longer than the leader takes between snapshots would never catch up.
    /// </summary>
    public RaftSnapshot? SnapshotBeingSent { get; private set; }

    /// <summary>In Snapshot: the byte offset of the next chunk to send.</summary>
    public long SnapshotOffset { get; set; }

    /// <summary>In Snapshot: a chunk is on its way and not yet answered.</summary>
    public bool SnapshotChunkInFlight { get; set; }

    /// <summary>In Snapshot: the leader's tick when the chunk in flight was sent.</summary>
    public ulong SnapshotChunkSentAt { get; set; }

    /// <summary>The leader's tick at which the newest heartbeat this follower acknowledged was sent.</summary>
    public ulong LastAckedHeartbeatTick { get; set; }

    /// <summary>Heard from since the leader last checked its quorum.</summary>
    public bool RecentActive { get; set; }

    public bool IsLearner { get; set; } = isLearner;

    public Inflights Inflights { get; } = new(maxInflight);

    /// <summary>True when nothing more should be sent now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // After a snapshot, continue from just past it; otherwise from just past the match.
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(RaftSnapshot snapshot)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshot.Metadata.Index;
        SnapshotBeingSent = snapshot;
    }

    /// <summary>An append up to <paramref name="lastIndex"/> was sent.</summary>
    public void SentEntries(ulong lastIndex)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (lastIndex >= Next)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex);
                }

                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
        }
    }

    /// <summary>The follower acknowledged up to <paramref name="index"/>; false if that told us nothing new.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// The follower rejected an append at <paramref name="rejected"/>, hinting it matches at most at
    /// <paramref name="matchHint"/>. Returns false if the rejection is stale.
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            // Stale unless it rejects exactly the entry after what we know matches.
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    public override string ToString() =>
        $"{State} match={Match} next={Next}{(IsLearner ? " learner" : string.Empty)}{(IsPaused ? " paused" : string.Empty)}"
        + (State == ProgressState.Snapshot ? $" pendingSnap={PendingSnapshot}@{SnapshotOffset}" : string.Empty)
        + (Inflights.Count > 0 ? $" inflight={Inflights.Count}" : string.Empty);

    private void ResetState(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        SnapshotBeingSent = null;
        SnapshotOffset = 0;
        SnapshotChunkInFlight = false;
        State = state;
        Inflights.Reset();
    }
}
