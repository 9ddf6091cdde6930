using Shortener.Core.Clicks;
using Shortener.Core.Quorum;

namespace Shortener.Node.Clicks;

/// <summary>The click pipeline and store, bound from "Shortener:Clicks" (docs/clicks.md). Every default works on one machine.</summary>
public sealed class ClickOptions
{
    public const string Section = "Shortener:Clicks";

    /// <summary>exactly-once (default), at-least-once, at-most-once, or off (redirects record no clicks).</summary>
    public string Delivery { get; set; } = "exactly-once";

    /// <summary>The level the relay writes clicks at: one, quorum (default), all or local-quorum.</summary>
    public string WriteConsistency { get; set; } = "quorum";

    /// <summary>The level of a stats read that names none.</summary>
    public string ReadConsistency { get; set; } = "quorum";

    /// <summary>N: copies of each link's clicks (fewer when the cluster has fewer nodes).</summary>
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>How often the click store's state machine ticks (timeouts, the relay, hints, anti-entropy).</summary>
    public int TickMs { get; set; } = 20;

    public int RequestTimeoutMs { get; set; } = 2_000;

    public int AntiEntropyIntervalMs { get; set; } = 1_000;

    public int HintReplayIntervalMs { get; set; } = 1_000;

    /// <summary>Hints older than this are dropped; anti-entropy repairs the owner instead.</summary>
    public double HintWindowHours { get; set; } = 3;

    /// <summary>
    /// Days after a UTC day ends that its clicks are sealed: folded into per-origin counters and
    /// deleted (the store keeps whole clicks only this long). A click that reaches a replica after
    /// that is not counted, so this is the longest a node may hold clicks unshipped (down, or cut
    /// off) and still have them count. At least the hint window.
    /// </summary>
    public double SealAfterDays { get; set; } = 7;

    /// <summary>How often the node looks for days past the horizon to seal (a pass that finds many goes on at the next tick).</summary>
    public int SealIntervalMs { get; set; } = 60_000;

    /// <summary>
    /// Phi past which a member gossip still counts as up is passed over when the click store picks
    /// replicas and stand-ins, and for hint replay (Akka's default, 8). Gossip (SWIM) stays the
    /// authority on membership; phi decides where to send work now.
    /// </summary>
    public double PhiThreshold { get; set; } = 8;

    public int RelayBatchSize { get; set; } = 500;

    /// <summary>Clicks the at-most-once queue holds in memory before it drops new ones.</summary>
    public int MemoryQueueCapacity { get; set; } = 100_000;

    /// <summary>
    /// How often the outbox is fsynced at most (group commit). A click is on the outbox file before
    /// its redirect answers, so a crash of the process loses none; a power loss may take the clicks
    /// of the last interval.
    /// </summary>
    public int OutboxSyncMs { get; set; } = 5;

    /// <summary>
    /// The nice value (0 to 19, Linux) of the thread that ships and stores clicks: it yields to
    /// redirects and API requests when the CPU is busy, and the outbox holds the clicks meanwhile
    /// (shortener_clicks_outbox_depth shows the backlog). 0 runs it like every other thread.
    /// </summary>
    public int BackgroundNice { get; set; } = 10;

    /// <summary>
    /// While this node serves redirects on a host whose CPU is contended (see
    /// <see cref="BusyCpuPressure"/>), the relay ships at most one batch per this many milliseconds
    /// (a floor of RelayBatchSize clicks per interval; the outbox holds the rest and an idle node
    /// ships at full speed). 0 never paces.
    /// </summary>
    public int BusyShipIntervalMs { get; set; } = 250;

    /// <summary>
    /// The share of wall time in which some task waited for a CPU (Linux pressure stall
    /// information, /proc/pressure/cpu, over the last second) from which the host counts as busy.
    /// </summary>
    public double BusyCpuPressure { get; set; } = 0.2;

    /// <summary>A header a trusted proxy in front of the nodes sets to the visitor's ISO country code.</summary>
    public string CountryHeader { get; set; } = "CF-IPCountry";

    public bool Enabled => !string.Equals(Delivery, "off", StringComparison.OrdinalIgnoreCase);

    public DeliveryMode Mode => ParseMode(Delivery) ?? DeliveryMode.ExactlyOnce;

    public static DeliveryMode? ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "exactly-once" => DeliveryMode.ExactlyOnce,
        "at-least-once" => DeliveryMode.AtLeastOnce,
        "at-most-once" => DeliveryMode.AtMostOnce,
        _ => null,
    };

    /// <summary>one, quorum, all, local-quorum (also local_quorum), any case; null for anything else.</summary>
    public static ConsistencyLevel? ParseLevel(string? text) => text?.ToLowerInvariant() switch
    {
        "one" => ConsistencyLevel.One,
        "quorum" => ConsistencyLevel.Quorum,
        "all" => ConsistencyLevel.All,
        "local-quorum" or "local_quorum" => ConsistencyLevel.LocalQuorum,
        _ => null,
    };

    public static string LevelName(ConsistencyLevel level) => level switch
    {
        ConsistencyLevel.One => "one",
        ConsistencyLevel.All => "all",
        ConsistencyLevel.LocalQuorum => "local-quorum",
        _ => "quorum",
    };

    public bool IsValid(out string? error)
    {
        error = null;
        if (Enabled && ParseMode(Delivery) is null)
        {
            error = $"Shortener:Clicks:Delivery must be exactly-once, at-least-once, at-most-once or off (got '{Delivery}')";
        }
        else if (ParseLevel(WriteConsistency) is null || ParseLevel(ReadConsistency) is null)
        {
            error = $"Shortener:Clicks:WriteConsistency and ReadConsistency must be one, quorum, all or local-quorum (got '{WriteConsistency}', '{ReadConsistency}')";
        }
        else if (SealAfterDays is < 0 or > 3_650 || SealAfterDays * 24 < HintWindowHours)
        {
            error = $"Shortener:Clicks:SealAfterDays must be between the hint window ({HintWindowHours} hours) and 3650 days (got {SealAfterDays}): a hint delivered after its day was sealed would not count";
        }
        else if (ReplicationFactor < 1 || TickMs < 1 || RequestTimeoutMs < 10 || AntiEntropyIntervalMs < 1 || HintReplayIntervalMs < 1 || HintWindowHours < 0 || SealIntervalMs < 10
            || RelayBatchSize is < 1 or > 10_000 || MemoryQueueCapacity < 1 || OutboxSyncMs is < 0 or > 10_000 || BackgroundNice is < 0 or > 19
            || BusyShipIntervalMs is < 0 or > 60_000 || BusyCpuPressure is < 0 or > 1 || !(PhiThreshold > 0))
        {
            error = "Shortener:Clicks options out of range: ReplicationFactor >= 1, TickMs >= 1, RequestTimeoutMs >= 10, AntiEntropyIntervalMs >= 1, HintReplayIntervalMs >= 1, HintWindowHours >= 0, SealIntervalMs >= 10, RelayBatchSize 1..10000, MemoryQueueCapacity >= 1, OutboxSyncMs 0..10000, BackgroundNice 0..19, BusyShipIntervalMs 0..60000, BusyCpuPressure 0..1, PhiThreshold > 0";
        }

        return error is null;
    }
}
