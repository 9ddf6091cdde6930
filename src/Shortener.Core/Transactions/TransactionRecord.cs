namespace Shortener.Core.Transactions;

/// <summary>
/// A transaction's record, kept in the log of its coordinator shard (the shard of its first key):
/// the one place its decision is made. <paramref name="DeadlineMs"/> is when a participant that
/// meets one of its intents may stop waiting and decide it aborted.
/// </summary>
public sealed record TransactionRecord(string Id, IReadOnlyList<int> Participants, long DeadlineMs, TransactionState State)
{
    public bool IsDecided => State != TransactionState.Pending;
}
