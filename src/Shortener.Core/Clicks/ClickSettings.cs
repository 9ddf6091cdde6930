namespace Shortener.Core.Clicks;

/// <summary>Replication, timing and batch sizes of <see cref="ClickNode"/>. Times are milliseconds of the driver's clock.</summary>
public sealed record ClickSettings
{
    /// <summary>N: replicas of each link's clicks (fewer when the cluster has fewer nodes).</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>How long a read or write waits for a replica before counting it as failed.</summary>
    public long RequestTimeoutMs { get; init; } = 2_000;

    public long HintReplayIntervalMs { get; init; } = 1_000;

    /// <summary>Hints older than this are dropped (anti-entropy has repaired the owner by then).</summary>
    public long HintWindowMs { get; init; } = 3 * 3_600_000;

    public int HintBatch { get; init; } = 500;

    /// <summary>How often a Merkle comparison of one ring range with one other replica starts.</summary>
    public long AntiEntropyIntervalMs { get; init; } = 1_000;

    /// <summary>A comparison that has not finished in this long is abandoned (the peer went away).</summary>
    public long AntiEntropyTimeoutMs { get; init; } = 10_000;

    /// <summary>Merkle trees get about this many clicks per leaf, up to <see cref="MaxMerkleDepth"/>.</summary>
    public int KeysPerLeaf { get; init; } = 8;

    public int MaxMerkleDepth { get; init; } = 16;

    /// <summary>At most this many clicks move each way per comparison; the next comparison of the range moves the rest.</summary>
    public int RepairBatch { get; init; } = 2_000;

    /// <summary>A read whose replicas disagree merges their clicks only up to this many per replica; above it the fullest answer stands and anti-entropy repairs.</summary>
    public int ReadRepairMaxClicks { get; init; } = 20_000;

    /// <summary>
    /// How long after a UTC day ends its clicks are sealed: folded into per-origin counters
    /// (<see cref="SealedDayRecord"/>) and dropped, which bounds the store. A click that reaches a
    /// replica after it sealed the day is not counted (the grace period, as in windowed stream
    /// aggregations): it must be longer than any outbox, hint or partition is expected to hold a click.
    /// </summary>
    public long SealAfterMs { get; init; } = 7 * 86_400_000L;

    /// <summary>How often a node looks for days to seal (and goes on at once while a pass was full).</summary>
    public long SealIntervalMs { get; init; } = 60_000;

    /// <summary>Clicks after which a sealing pass stops (it folds whole units, so it may pass this; the next tick goes on).</summary>
    public int SealBatch { get; init; } = 20_000;

    public int TopReferrers { get; init; } = 10;

    public int SummaryTopLinks { get; init; } = 10;

    public void Validate()
    {
        if (ReplicationFactor < 1 || RequestTimeoutMs < 1 || HintReplayIntervalMs < 1 || HintWindowMs < 0 || HintBatch < 1
            || AntiEntropyIntervalMs < 1 || AntiEntropyTimeoutMs < 1 || KeysPerLeaf < 1 || MaxMerkleDepth is < 1 or > Merkle.MerkleTree.MaxDepth
            || RepairBatch < 1 || ReadRepairMaxClicks < 0 || TopReferrers < 0 || SummaryTopLinks < 0
            || SealAfterMs < 0 || SealIntervalMs < 1 || SealBatch < 1)
        {
            throw new ArgumentException($"click store settings out of range: {this}");
        }
    }
}
