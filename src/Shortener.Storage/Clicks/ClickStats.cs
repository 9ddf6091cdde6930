namespace Shortener.Storage.Clicks;

/// <summary>One link's clicks over a range of days, as one replica holds them.</summary>
public sealed record ClickStats(
    string Code,
    long Total,
    long Human,
    long Bots,
    IReadOnlyList<ClickDay> Days,
    IReadOnlyList<ReferrerCount> TopReferrers);

/// <summary>Clicks of one UTC day (days since 1970-01-01).</summary>
public sealed record ClickDay(int Day, long Human, long Bots);

public sealed record ReferrerCount(string Referrer, long Clicks);
