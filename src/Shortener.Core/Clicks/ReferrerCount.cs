namespace Shortener.Core.Clicks;

/// <summary>How many clicks came from one referring host.</summary>
public sealed record ReferrerCount(string Referrer, long Clicks);
