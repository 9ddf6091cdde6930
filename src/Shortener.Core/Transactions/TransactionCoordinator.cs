namespace Shortener.Core.Transactions;

/// <summary>Where a coordinator is in one transaction (docs/transactions.md).</summary>
public enum CoordinatorPhase
{
    /// <summary>Writing the pending record to the coordinator shard.</summary>
    Beginning,

    /// <summary>Waiting for every participant's prepare (its intents written through its log).</summary>
    Preparing,

    /// <summary>Writing the decision to the record.</summary>
    Deciding,

    /// <summary>Telling the participants the decision the record holds.</summary>
    Resolving,

    /// <summary>Every participant resolved (or the record refused the begin): nothing left to do.</summary>
    Done,
}

/// <summary>What a coordinator asks its host to do: each is a write through some shard's log, answered back as an input.</summary>
public abstract record CoordinatorStep
{
    /// <summary>Write the pending record (<see cref="TransactionRules.Begin"/>) to the coordinator shard; answer with <see cref="TransactionCoordinator.RecordWritten"/>.</summary>
    public sealed record Begin(TransactionRecord Record) : CoordinatorStep;

    /// <summary>Ask the participant shard to write its intents; answer with <see cref="TransactionCoordinator.Prepared"/>.</summary>
    public sealed record Prepare(int Participant) : CoordinatorStep;

    /// <summary>Decide the record (<see cref="TransactionRules.Decide"/>); answer with <see cref="TransactionCoordinator.RecordWritten"/>.</summary>
    public sealed record Decide(TransactionState Decision) : CoordinatorStep;

    /// <summary>Tell the participant the decision; answer with <see cref="TransactionCoordinator.Resolved"/>.</summary>
    public sealed record Resolve(int Participant, TransactionState Decision) : CoordinatorStep;
}

/// <summary>
/// The coordinator of one transaction as a pure state machine: inputs are the answers to the
/// steps it asked for and its deadline passing; outputs are the next steps. It keeps nothing that
/// matters only in memory: the record is the transaction's state, so a coordinator that is lost
/// (its node crashed) is replaced by the participants' recovery rule, and one that hears that the
/// record was decided otherwise (a recovery aborted it first) follows the record.
/// </summary>
public sealed class TransactionCoordinator
{
    private readonly HashSet<int> _prepared = [];
    private readonly HashSet<int> _resolved = [];

    public TransactionCoordinator(string id, IReadOnlyList<int> participants, long deadlineMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (participants.Count == 0 || participants.Distinct().Count() != participants.Count)
        {
            throw new ArgumentException("a transaction has at least one participant, each once", nameof(participants));
        }

        Id = id;
        Participants = participants;
        DeadlineMs = deadlineMs;
    }

    public string Id { get; }

    public IReadOnlyList<int> Participants { get; }

    public long DeadlineMs { get; }

    public CoordinatorPhase Phase { get; private set; } = CoordinatorPhase.Beginning;

    /// <summary>The decision the record holds, once known.</summary>
    public TransactionState? Outcome { get; private set; }

    /// <summary>The first step: write the pending record.</summary>
    public IReadOnlyList<CoordinatorStep> Start() => [new CoordinatorStep.Begin(new TransactionRecord(Id, Participants, DeadlineMs, TransactionState.Pending))];

    /// <summary>The record was written (or refused: <paramref name="changed"/> false); <paramref name="record"/> is what it holds now.</summary>
    public IReadOnlyList<CoordinatorStep> RecordWritten(bool changed, TransactionRecord record)
    {
        switch (Phase)
        {
            case CoordinatorPhase.Beginning when changed:
                Phase = CoordinatorPhase.Preparing;
                return [.. Participants.Select(p => new CoordinatorStep.Prepare(p))];
            case CoordinatorPhase.Beginning:
                // The id was taken (a recovery's tombstone, or a begin retried after it applied
                // and was then aborted): this transaction did not begin here.
                Outcome = record.IsDecided ? record.State : TransactionState.Aborted;
                Phase = CoordinatorPhase.Done;
                return [];
            case CoordinatorPhase.Deciding when record.IsDecided:
                // Whoever decided first, the record says how it ended.
                Outcome = record.State;
                Phase = CoordinatorPhase.Resolving;
                return [.. Participants.Select(p => new CoordinatorStep.Resolve(p, record.State))];
            default:
                return [];
        }
    }

    /// <summary>A participant answered its prepare: yes (its intents are durable) or no (a conflict; it wrote none).</summary>
    public IReadOnlyList<CoordinatorStep> Prepared(int participant, bool yes)
    {
        if (Phase != CoordinatorPhase.Preparing || !Participants.Contains(participant))
        {
            return [];
        }

        if (!yes)
        {
            return DecideNow(TransactionState.Aborted);
        }

        _prepared.Add(participant);
        return _prepared.Count == Participants.Count ? DecideNow(TransactionState.Committed) : [];
    }

    /// <summary>At <paramref name="nowMs"/>: a transaction still preparing at its deadline is aborted (a participant is down, or slow).</summary>
    public IReadOnlyList<CoordinatorStep> Tick(long nowMs) =>
        Phase == CoordinatorPhase.Preparing && nowMs >= DeadlineMs ? DecideNow(TransactionState.Aborted) : [];

    /// <summary>A participant applied or dropped its intents.</summary>
    public IReadOnlyList<CoordinatorStep> Resolved(int participant)
    {
        if (Phase == CoordinatorPhase.Resolving && Participants.Contains(participant) && _resolved.Add(participant) && _resolved.Count == Participants.Count)
        {
            Phase = CoordinatorPhase.Done;
        }

        return [];
    }

    private IReadOnlyList<CoordinatorStep> DecideNow(TransactionState decision)
    {
        Phase = CoordinatorPhase.Deciding;
        return [new CoordinatorStep.Decide(decision)];
    }
}
