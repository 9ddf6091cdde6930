namespace Shortener.Storage.Links;

/// <summary>
/// The transaction a node's applies share until its driver commits it on a size or time bound
/// (etcd's batched backend commit): what the driver needs to decide when, and to do it.
/// </summary>
public interface IHeldTransaction
{
    /// <summary>
    /// Whether a transaction is open: something was applied since the last commit (an entry with no
    /// command, such as a leader's no-op, still moves the applied index it records).
    /// </summary>
    bool Holding { get; }

    /// <summary>Commands applied since the last commit.</summary>
    int HeldApplies { get; }

    /// <summary>A reader of committed rows is waiting for the held applies: commit without waiting for the bound.</summary>
    bool CommitWanted { get; }

    /// <summary>Commits the held applies; throws if they were lost (rolled back after a failed apply) or the commit failed.</summary>
    void CommitHeld();
}
