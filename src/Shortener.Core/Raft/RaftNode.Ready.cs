namespace Shortener.Core.Raft;

/// <summary>Handing work to the driver and hearing back that it is done.</summary>
public sealed partial class RaftNode
{
    /// <summary>Most payload bytes of committed entries handed out in one Ready.</summary>
    public const long MaxCommittedBytesPerReady = 64L << 20;

    public bool HasReady =>
        CurrentSoftState != _prevSoftState
        || (CurrentHardState != _prevHardState)
        || _log.UnstableEntries.Count > 0
        || _log.UnstableSnapshot is not null
        || _log.HasNextCommittedEntries
        || _messages.Count > 0
        || _readStates.Count > 0;

    public Ready GetReady()
    {
        var hardState = CurrentHardState;
        var softState = CurrentSoftState;
        var unstable = _log.UnstableEntries;
        var entries = unstable.Count == 0 ? [] : unstable.ToArray();
        var snapshot = _log.UnstableSnapshot;
        var ready = new Ready
        {
            SoftState = softState != _prevSoftState ? softState : null,
            HardState = hardState != _prevHardState ? hardState : HardState.Empty,
            Snapshot = snapshot,
            Entries = entries,
            CommittedEntries = _log.NextCommittedEntries(MaxCommittedBytesPerReady),
            Messages = _messages.Count == 0 ? [] : _messages.ToArray(),
            ReadStates = _readStates.Count == 0 ? [] : _readStates.ToArray(),
            MustSync = hardState.Term != _prevHardState.Term || hardState.Vote != _prevHardState.Vote || entries.Length > 0 || snapshot is not null,
        };
        _messages.Clear();
        _readStates.Clear();
        return ready;
    }

    /// <summary>The driver has persisted, sent and applied what <paramref name="ready"/> held.</summary>
    public void Advance(Ready ready)
    {
        if (!ready.HardState.IsEmpty)
        {
            _prevHardState = ready.HardState;
        }

        if (ready.SoftState is { } soft)
        {
            _prevSoftState = soft;
        }

        if (ready.Snapshot is { } snapshot)
        {
            // The driver restored its state from the snapshot: that is applied too.
            _log.StableSnapshotTo(snapshot.Metadata.Index);
            _log.AppliedTo(snapshot.Metadata.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            _log.StableTo(last.Index, last.Term);

            // Only now, with its entries durable, does the leader count itself.
            if (Role == RaftRole.Leader && _log.MatchTerm(last.Index, last.Term) && _tracker.Progress.TryGetValue(Id, out var self) && self.MaybeUpdate(last.Index) && MaybeCommit())
            {
                OnCommitAdvanced();
            }
        }

        if (ready.CommittedEntries.Count > 0)
        {
            _log.AppliedTo(ready.CommittedEntries[^1].Index);
            _uncommittedSize = Math.Max(0, _uncommittedSize - ready.CommittedEntries.Sum(e => (long)e.PayloadSize));
            if (Role == RaftRole.Leader && _tracker.Config.AutoLeave && _log.Applied >= _pendingConfIndex)
            {
                // The joint configuration is in force everywhere it matters: leave it.
                ProposeAsLeader(new RaftMessage { Type = MessageType.Propose, From = Id, Entries = [new RaftEntry(0, 0, EntryType.ConfChange, ConfChange.LeaveJoint.Encode())] });
            }
        }
    }
}
