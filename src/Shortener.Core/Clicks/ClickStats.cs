namespace Shortener.Core.Clicks;

/// <summary>One link's clicks over a range of days, as one replica holds them.</summary>
public sealed record ClickStats(
    string Code,
    long Total,
    long Human,
    long Bots,
    IReadOnlyList<ClickDay> Days,
    IReadOnlyList<ReferrerCount> TopReferrers);
