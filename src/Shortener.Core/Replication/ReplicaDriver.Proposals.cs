using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>The driver's proposals: their ids, their attempts, proposing again after a change of leader, their deadlines.</summary>
public sealed partial class ReplicaDriver<TResult>
{
    /// <summary>
    /// Proposes <paramref name="payload"/>; <paramref name="done"/> hears, on this thread, its result
    /// once this replica applied it, or why not. Until its deadline it is proposed again, under the
    /// same id, whenever no leader took it or the leader changed before it applied.
    /// </summary>
    /// <returns>The id it waits under (for <see cref="Withdraw"/>), or null when it was refused at once.</returns>
    public ProposalId? Propose(ReadOnlySpan<byte> payload, Action<ProposalOutcome<TResult>> done)
    {
        if (Failure is not null)
        {
            done(ProposalOutcome<TResult>.Failed(StoppedReason, mayHaveApplied: false));
            return null;
        }

        if (_proposals.Full)
        {
            done(ProposalOutcome<TResult>.Failed($"too many proposals waiting ({_options.MaxPendingProposals})", mayHaveApplied: false));
            return null;
        }

        var id = new ProposalId(_options.Proposer, ++_nextSequence);
        var proposal = _proposals.Add(id, ProposalFrame.Encode(id, payload), done, _ticks);
        Input(() => Attempt(proposal));
        return id;
    }

    /// <summary>
    /// The proposal's caller stopped waiting (its own deadline, counted in wall time, passed before
    /// the driver's, counted in ticks that lag on a loaded node): it is not proposed again, so it
    /// cannot apply long after its caller was told it failed. An attempt already handed to Raft may
    /// still commit, as the caller was told it might; <c>done</c> hears the withdrawal.
    /// </summary>
    public void Withdraw(ProposalId id)
    {
        if (_proposals.TryTake(id.Sequence, out var proposal))
        {
            proposal.Done(ProposalOutcome<TResult>.Failed("withdrawn: its caller stopped waiting", proposal.EverHandedOver));
        }
    }

    /// <summary>
    /// On a tick: fails proposals past their deadline and proposes again those waiting for a leader,
    /// those whose leader changed, and those unapplied for <see cref="ReplicaOptions.ReproposeTicks"/>.
    /// After a change of leader: only the waiting and the changed ones, at once.
    /// </summary>
    private void RetryProposals(bool onTick)
    {
        if (_proposals.Count == 0)
        {
            return;
        }

        var (expired, retry) = _proposals.Due(_ticks, _node.Term, _node.Lead, _options.RequestTimeoutTicks, onTick ? _options.ReproposeTicks : null);
        foreach (var p in expired)
        {
            var why = p.EverHandedOver
                ? $"not applied within {_options.RequestTimeoutTicks} ticks"
                : $"no leader took it within {_options.RequestTimeoutTicks} ticks ({p.LastRefusal ?? "no leader is known"})";
            p.Done(ProposalOutcome<TResult>.Failed(why, p.EverHandedOver));
        }

        foreach (var p in retry)
        {
            if (Planted(ReplicaBugs.DropProposalsOnLeaderChange) && p.EverHandedOver && (p.Attempt.Term != _node.Term || p.Attempt.Leader != _node.Lead))
            {
                _proposals.TryTake(p.Id.Sequence, out _);
                continue;
            }

            Attempt(p);
        }
    }

    private void Attempt(PendingProposal<TResult> proposal)
    {
        var result = _node.Propose(proposal.Frame);
        if (!result.Accepted)
        {
            proposal.Refused(result.Reason ?? result.Status.ToString());
            return;
        }

        proposal.HandedOver(_node.Term, _node.Lead, _ticks);
        if (Planted(ReplicaBugs.AckBeforeApply) && result.Status == ProposalStatus.Appended && _proposals.TryTake(proposal.Id.Sequence, out _))
        {
            proposal.Done(ProposalOutcome<TResult>.Done(default));
        }
    }
}
