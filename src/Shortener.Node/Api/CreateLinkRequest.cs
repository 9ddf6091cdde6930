namespace Shortener.Node.Api;

/// <summary>Body of POST /api/v1/links.</summary>
public sealed record CreateLinkRequest(
    string? Url,
    string? Alias = null,
    DateTimeOffset? ExpiresAt = null,
    long? MaxVisits = null,
    int? RedirectStatus = null,
    IReadOnlyList<string?>? Tags = null,
    string? Title = null);
