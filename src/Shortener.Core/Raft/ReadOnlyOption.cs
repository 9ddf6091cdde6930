namespace Shortener.Core.Raft;

/// <summary>How the leader confirms a linearizable read.</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>A heartbeat round proves the leader is still the leader. No clock assumption.</summary>
    Safe,

    /// <summary>
    /// The leader trusts its lease (check-quorum must be on). Assumes ticks run at nearly the same
    /// rate on every node; see docs/raft.md.
    /// </summary>
    LeaseBased,
}
