using Shortener.Core.Links;

namespace Shortener.Node.Api;

/// <summary>A link as the API shows it.</summary>
public sealed record LinkResponse(
    string Code,
    string ShortUrl,
    string Url,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ExpiresAt,
    long? MaxVisits,
    long Visits,
    int RedirectStatus,
    IReadOnlyList<string> Tags,
    string? Title,
    string Status)
{
    public static LinkResponse From(Link link, string publicBaseUrl, long nowMs) => new(
        link.Code,
        publicBaseUrl.TrimEnd('/') + "/" + link.Code,
        link.Url,
        DateTimeOffset.FromUnixTimeMilliseconds(link.CreatedAt),
        DateTimeOffset.FromUnixTimeMilliseconds(link.UpdatedAt),
        link.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null,
        link.MaxVisits,
        link.Visits,
        link.RedirectStatus,
        link.Tags,
        link.Title,
        link.StateAt(nowMs).ToString().ToLowerInvariant());
}
