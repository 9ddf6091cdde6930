namespace Shortener.Node.Sinks;

/// <summary>How this node delivers to the cluster's sinks (section <c>Shortener:Sinks</c>).</summary>
public sealed class SinkOptions
{
    public const string Section = "Shortener:Sinks";

    /// <summary>How long a deliverer's lease on a shard lasts; a holder that stopped blocks delivery at most this long.</summary>
    public int LeaseMs { get; set; } = 3_000;

    /// <summary>How often a holder renews its lease; each renewal also records how far it delivered (what a new holder resumes from).</summary>
    public int RenewMs { get; set; } = 1_000;

    /// <summary>The most events one write carries.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Attempts of a batch the sink refuses (a webhook's 4xx) before it goes to the dead letters and delivery moves on.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry's wait; each next one doubles, up to <see cref="BackoffMaxMs"/>, with full jitter.</summary>
    public int BackoffBaseMs { get; set; } = 100;

    public int BackoffMaxMs { get; set; } = 10_000;

    /// <summary>
    /// The least time between two calls this node makes to one Redis sink: the shards' batches
    /// asked for in between go in the next call together. Idle, a write goes at once; under load
    /// this bounds the calls (and the sink's cost per event) at the price of up to this much latency.
    /// </summary>
    public int WriteIntervalMs { get; set; } = 20;

    public bool IsValid(int tickMs) =>
        LeaseMs >= 5 * tickMs && RenewMs >= tickMs && RenewMs * 2 <= LeaseMs && BatchSize is >= 1 and <= 10_000
        && MaxAttempts >= 1 && BackoffBaseMs >= 1 && BackoffMaxMs >= BackoffBaseMs && WriteIntervalMs is >= 0 and <= 1_000;
}
