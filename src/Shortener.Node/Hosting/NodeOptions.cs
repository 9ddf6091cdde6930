namespace Shortener.Node.Hosting;

/// <summary>Settings of one node, bound from the "Shortener" configuration section. Every default works on one machine.</summary>
public sealed class NodeOptions
{
    public const string Section = "Shortener";

    /// <summary>Where the node keeps its database and generated API key.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Base of the short URLs handed out, e.g. https://sho.rt. Defaults to the first address the node listens on.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The API key clients must send; when unset one is generated at first start and kept in the data dir.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Length of generated codes (base62).</summary>
    public int CodeLength { get; set; } = 7;

    /// <summary>How many sequence numbers one lease reserves for this node's code allocator.</summary>
    public int CodeBlockSize { get; set; } = 1000;

    /// <summary>How many links the redirect cache holds before it evicts.</summary>
    public int RedirectCacheCapacity { get; set; } = 1_000_000;

    /// <summary>Largest request body accepted by the API.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>
    /// Whether this node takes injected faults (POST/DELETE /admin/v1/faults and the peers' fan-out):
    /// off unless the node runs with --allow-faults, which `shortener up` passes for a local
    /// cluster, so a production node cannot be partitioned by anyone holding a key.
    /// </summary>
    public bool AllowFaults { get; set; }

    /// <summary>
    /// Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For is believed: a request
    /// from one of them counts as its forwarded client's for rate limits. From anyone else the
    /// header is ignored (loopback included), so a client cannot pick its own bucket.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];
}
