namespace Shortener.Core.Clicks;

/// <summary>Clicks of one UTC day (days since 1970-01-01).</summary>
public sealed record ClickDay(int Day, long Human, long Bots);
