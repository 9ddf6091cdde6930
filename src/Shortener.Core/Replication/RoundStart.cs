namespace Shortener.Core.Replication;

/// <summary>What the first half of a round left for the host to do before the second half.</summary>
public enum RoundStart : byte
{
    /// <summary>Nothing was written.</summary>
    Idle,

    /// <summary>Records were written that need no fsync (only a commit index moved).</summary>
    Written,

    /// <summary>Records were written that must be durable before <see cref="ReplicaDriver{TResult}.EndRound"/>.</summary>
    MustSync,
}
