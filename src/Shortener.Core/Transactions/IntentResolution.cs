namespace Shortener.Core.Transactions;

/// <summary>What a participant does with an intent, given its transaction's record (<see cref="TransactionRules.Resolve"/>).</summary>
public enum IntentResolution
{
    /// <summary>The transaction committed: make the intent's write.</summary>
    Apply,

    /// <summary>The transaction aborted: drop the intent.</summary>
    Discard,

    /// <summary>Undecided and within its deadline: leave the intent (readers see the last committed value).</summary>
    Wait,

    /// <summary>Undecided past its deadline, or never begun: decide it aborted in the record first (<see cref="TransactionRules.Decide"/>), then drop the intent.</summary>
    Abort,
}
