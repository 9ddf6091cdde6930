namespace Shortener.Core.Transactions;

/// <summary>Where a cross-shard transaction stands, as its record says (docs/transactions.md).</summary>
public enum TransactionState
{
    /// <summary>Begun; participants may be preparing. Left once, for one of the two below.</summary>
    Pending,

    /// <summary>Decided: every participant applies its intents.</summary>
    Committed,

    /// <summary>Decided: every participant drops its intents (also the tombstone of a record a recovery found missing).</summary>
    Aborted,
}
