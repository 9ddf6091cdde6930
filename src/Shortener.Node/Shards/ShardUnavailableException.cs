namespace Shortener.Node.Shards;

/// <summary>
/// A shard could not serve a write or a linearizable read here in time: no leader reachable, no
/// quorum, or this replica stopped. Answered as 503 no-quorum. <see cref="MayHaveApplied"/> says
/// the command was handed to Raft and may still commit (retrying with the same idempotency key is safe).
/// </summary>
public sealed class ShardUnavailableException(int shard, string reason, bool mayHaveApplied = false)
    : Exception($"shard {shard}: {reason}")
{
    public int Shard { get; } = shard;

    public string Reason { get; } = reason;

    public bool MayHaveApplied { get; } = mayHaveApplied;

    public static ShardUnavailableException TimedOut(int shard, TimeSpan timeout, bool mayHaveApplied) => new(
        shard,
        $"no quorum answered within {timeout.TotalSeconds:0.#} s",
        mayHaveApplied);
}
