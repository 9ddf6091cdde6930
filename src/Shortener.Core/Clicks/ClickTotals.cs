namespace Shortener.Core.Clicks;

/// <summary>One link's human and bot clicks.</summary>
public sealed record ClickTotals(string Code, long Human, long Bots)
{
    public long Total => Human + Bots;
}
