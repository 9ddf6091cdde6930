namespace Shortener.Simulation.Commit;

/// <summary>The atomic commit protocols <c>shortener sim commit</c> compares (docs/transactions.md).</summary>
public enum CommitProtocol
{
    /// <summary>Textbook two-phase commit: the coordinator's decision on its own disk.</summary>
    TwoPhase,

    /// <summary>Textbook three-phase commit with its termination protocol.</summary>
    ThreePhase,

    /// <summary>The product's: two-phase commit with the record and the intents in Raft logs, and the recovery rule.</summary>
    TwoPhaseOverRaft,
}

/// <summary>Bugs planted in the 2PC-over-Raft model, each of which the checkers must catch.</summary>
public enum CommitBug
{
    None,

    /// <summary>A participant answers its prepare before its intent is durable; a crash in between loses the intent.</summary>
    CommitBeforeDurablePrepare,

    /// <summary>A participant past the deadline drops its intent without deciding the record.</summary>
    ResolveWithoutRecord,

    /// <summary>The record's decision is held in memory only: a crash of its node forgets it.</summary>
    ForgetDecisionOnRestart,
}

/// <summary>What one participant holds for one transaction (durable: it survives the node's crash).</summary>
public enum ParticipantState
{
    /// <summary>Has not taken part (no prepare arrived, or it was lost).</summary>
    None,

    /// <summary>Voted yes (an intent, in the Raft model): may not decide alone.</summary>
    Prepared,

    /// <summary>Three-phase commit only: told that everyone voted yes.</summary>
    PreCommitted,

    Committed,

    Aborted,
}
