namespace Shortener.Core.Clicks;

/// <summary>How <see cref="ClickRelay"/> ships: batch size and the backoff between failed attempts (doubling from the minimum, with jitter).</summary>
public sealed record ClickRelaySettings
{
    public int BatchSize { get; init; } = 500;

    public long RetryMinMs { get; init; } = 100;

    public long RetryMaxMs { get; init; } = 5_000;

    public void Validate()
    {
        if (BatchSize < 1 || RetryMinMs < 1 || RetryMaxMs < RetryMinMs)
        {
            throw new ArgumentException($"click relay settings out of range: {this}");
        }
    }
}
