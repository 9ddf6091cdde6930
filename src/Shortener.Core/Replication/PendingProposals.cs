namespace Shortener.Core.Replication;

/// <summary>
/// The proposals a replica made and has not answered, in the order it made them, bounded. The
/// driver hands them to Raft and decides, from the ticks and the leader it sees, which to propose
/// again and which have run out of time.
/// </summary>
public sealed class PendingProposals<TResult>(int capacity)
{
    private readonly SortedDictionary<ulong, PendingProposal<TResult>> _bySequence = [];

    public int Count => _bySequence.Count;

    public bool Full => _bySequence.Count >= capacity;

    public IEnumerable<PendingProposal<TResult>> All => _bySequence.Values;

    public PendingProposal<TResult> Add(ProposalId id, byte[] frame, Action<ProposalOutcome<TResult>> done, ulong tick)
    {
        if (Full)
        {
            throw new InvalidOperationException($"more than {capacity} proposals pending");
        }

        var proposal = new PendingProposal<TResult>(id, frame, done, tick);
        _bySequence.Add(id.Sequence, proposal);
        return proposal;
    }

    public bool TryTake(ulong sequence, out PendingProposal<TResult> proposal) => _bySequence.Remove(sequence, out proposal!);

    /// <summary>
    /// Splits the pending proposals at <paramref name="tick"/>: those past their deadline (removed
    /// and returned to be failed), and those to propose again: waiting ones, and handed-over ones
    /// whose term or leader changed since, or (with <paramref name="reproposeTicks"/>) that have
    /// waited that long. Both in proposal order.
    /// </summary>
    public (IReadOnlyList<PendingProposal<TResult>> Expired, IReadOnlyList<PendingProposal<TResult>> Retry) Due(ulong tick, ulong term, ulong leader, int timeoutTicks, int? reproposeTicks)
    {
        List<PendingProposal<TResult>>? expired = null;
        List<PendingProposal<TResult>>? retry = null;
        foreach (var p in _bySequence.Values)
        {
            if (tick - p.SubmittedTick >= (ulong)timeoutTicks)
            {
                (expired ??= []).Add(p);
            }
            else if (p.Phase == ProposalPhase.Waiting
                || p.Attempt.Term != term
                || p.Attempt.Leader != leader
                || (reproposeTicks is { } interval && tick - p.Attempt.Tick >= (ulong)interval))
            {
                (retry ??= []).Add(p);
            }
        }

        foreach (var p in expired ?? [])
        {
            _bySequence.Remove(p.Id.Sequence);
        }

        return (expired ?? (IReadOnlyList<PendingProposal<TResult>>)[], retry ?? (IReadOnlyList<PendingProposal<TResult>>)[]);
    }

    /// <summary>Removes and returns them all.</summary>
    public List<PendingProposal<TResult>> TakeAll()
    {
        var all = _bySequence.Values.ToList();
        _bySequence.Clear();
        return all;
    }
}
