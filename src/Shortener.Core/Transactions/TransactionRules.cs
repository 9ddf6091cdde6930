namespace Shortener.Core.Transactions;

/// <summary>
/// How the coordinator shard's state machine decides transaction records, and how a participant
/// reads one: pure, so every replica decides alike (docs/transactions.md). A record leaves
/// <see cref="TransactionState.Pending"/> once; the coordinator's decision and a recovery's abort
/// are the same compare-and-set, so whichever the log orders first wins and the other learns it.
/// </summary>
public static class TransactionRules
{
    /// <summary>Writes a new record as pending; refused when one exists under the id (ids are not reused, and a recovery's tombstone keeps a late begin out).</summary>
    public static (bool Begun, TransactionRecord Record) Begin(TransactionRecord? current, string id, IReadOnlyList<int> participants, long deadlineMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (participants.Count == 0)
        {
            throw new ArgumentException("a transaction has at least one participant", nameof(participants));
        }

        return current is not null
            ? (false, current)
            : (true, new TransactionRecord(id, participants, deadlineMs, TransactionState.Pending));
    }

    /// <summary>
    /// Decides the record <paramref name="decision"/> if it is still pending (Decided: the record
    /// now holds that decision). A repeat of the
    /// decision it holds succeeds (a coordinator retrying its write); the other decision is
    /// refused and the record comes back as it is. A missing record can only be aborted: the
    /// tombstone of a transaction that was never begun, or whose begin was lost.
    /// </summary>
    public static (bool Decided, TransactionRecord Record) Decide(TransactionRecord? current, string id, TransactionState decision)
    {
        if (decision == TransactionState.Pending)
        {
            throw new ArgumentException("a decision is committed or aborted", nameof(decision));
        }

        if (current is null)
        {
            var tombstone = new TransactionRecord(id, [], 0, TransactionState.Aborted);
            return (decision == TransactionState.Aborted, tombstone);
        }

        return current.State switch
        {
            TransactionState.Pending => (true, current with { State = decision }),
            _ => (current.State == decision, current),
        };
    }

    /// <summary>
    /// What a participant holding an intent of the transaction does at <paramref name="atMs"/>,
    /// given the record as the coordinator shard has it (null: none). It never decides from its
    /// intent alone: an undecided transaction is waited for until its deadline, then aborted
    /// through the record.
    /// </summary>
    public static IntentResolution Resolve(TransactionRecord? record, long atMs) => record switch
    {
        null => IntentResolution.Abort,
        { State: TransactionState.Committed } => IntentResolution.Apply,
        { State: TransactionState.Aborted } => IntentResolution.Discard,
        _ when atMs >= record.DeadlineMs => IntentResolution.Abort,
        _ => IntentResolution.Wait,
    };
}
