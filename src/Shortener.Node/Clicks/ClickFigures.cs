using Shortener.Core.Clicks;

namespace Shortener.Node.Clicks;

/// <summary>The click store's figures on this node as of the service's last tick (for metrics and the admin view).</summary>
public sealed record ClickFigures(long OutboxDepth, long HintsPending, long Stored, long Shipped, long RelayFailures, long Lost, ClickNodeCounters Node)
{
    /// <summary>Ticks at which the relay was held back because the node was busy serving redirects (<see cref="Shortener.Core.Clicks.ClickPacer"/>).</summary>
    public long RelayHeldBack { get; init; }

    /// <summary>Whether the relay is pacing itself now.</summary>
    public bool RelayPaced { get; init; }

    public static ClickFigures Empty { get; } = new(0, 0, 0, 0, 0, 0, new ClickNodeCounters());
}
