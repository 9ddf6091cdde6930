namespace Shortener.Node.Hosting;

/// <summary>
/// Token buckets on writes (POST, PATCH, DELETE): one per API key and one per client IP; a write
/// needs a token from both. A rate of 0 turns that limit off.
/// </summary>
public sealed class RateLimitOptions
{
    public int PerKeyPerSecond { get; set; } = 200;

    public int PerKeyBurst { get; set; } = 400;

    public int PerIpPerSecond { get; set; } = 100;

    public int PerIpBurst { get; set; } = 200;
}
