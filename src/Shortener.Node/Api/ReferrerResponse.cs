namespace Shortener.Node.Api;

/// <summary>Human clicks from one referring host.</summary>
public sealed record ReferrerResponse(string Referrer, long Clicks);
