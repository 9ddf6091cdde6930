namespace Shortener.Node.Api;

/// <summary>
/// Body of PATCH /api/v1/links/{code}, a JSON merge patch (RFC 7396): a field left out is kept,
/// null removes an optional field (expiresAt, maxVisits, title; tags becomes empty).
/// Documented here for the OpenAPI description; the endpoint reads the JSON itself to tell absent from null.
/// </summary>
public sealed record UpdateLinkRequest(
    string? Url = null,
    DateTimeOffset? ExpiresAt = null,
    long? MaxVisits = null,
    int? RedirectStatus = null,
    IReadOnlyList<string>? Tags = null,
    string? Title = null);
