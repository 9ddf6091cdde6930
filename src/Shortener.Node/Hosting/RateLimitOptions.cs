namespace Shortener.Node.Hosting;

/// <summary>
/// Token buckets on writes (POST, PATCH, DELETE): one per API key for requests with a valid key,
/// and one per client network (IPv4 address or IPv6 /64) for requests without, so unauthenticated
/// traffic cannot spend a real key's budget; and one per client network for reads of the API
/// without a key. A rate of 0 turns that limit off. The buckets are each node's own: a client
/// spreading its requests over n nodes gets n times the rate.
/// </summary>
public sealed class RateLimitOptions
{
    public int PerKeyPerSecond { get; set; } = 200;

    public int PerKeyBurst { get; set; } = 400;

    public int PerIpPerSecond { get; set; } = 100;

    public int PerIpBurst { get; set; } = 200;

    /// <summary>Reads under /api/ without a valid key, per client network (redirects are never limited).</summary>
    public int AnonymousReadsPerSecond { get; set; } = 50;

    public int AnonymousReadsBurst { get; set; } = 100;
}
