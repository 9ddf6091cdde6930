namespace Shortener.Node.Cluster;

/// <summary>
/// A shard could not serve a write or a linearizable read here in time: no leader reachable, no
/// quorum, or this replica stopped. Answered as 503 no-quorum. <see cref="MayHaveApplied"/> says
/// the command was handed to Raft and may still commit (retrying with the same idempotency key is safe).
/// </summary>
public sealed class ShardUnavailableException(int shard, string reason, bool retryable, bool mayHaveApplied = false)
    : Exception($"shard {shard}: {reason}")
{
    public int Shard { get; } = shard;

    public string Reason { get; } = reason;

    /// <summary>Worth retrying inside the same request (nothing was appended).</summary>
    public bool Retryable { get; } = retryable;

    public bool MayHaveApplied { get; } = mayHaveApplied;

    public static ShardUnavailableException TimedOut(int shard, TimeSpan timeout, bool mayHaveApplied) => new(
        shard,
        $"no quorum answered within {timeout.TotalSeconds:0.#} s",
        retryable: false,
        mayHaveApplied);
}
