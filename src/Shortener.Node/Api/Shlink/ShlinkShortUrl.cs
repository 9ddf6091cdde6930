using Shortener.Core.Links;

namespace Shortener.Node.Api.Shlink;

/// <summary>Visits of a short URL, a tag or the cluster: all, by people, by bots.</summary>
public sealed record ShlinkVisitsSummary(long Total, long NonBots, long Bots)
{
    public static ShlinkVisitsSummary Empty { get; } = new(0, 0, 0);

    public ShlinkVisitsSummary Plus(ShlinkVisitsSummary other) => new(Total + other.Total, NonBots + other.NonBots, Bots + other.Bots);
}

public sealed record ShlinkMeta(string? ValidSince, string? ValidUntil, long? MaxVisits);

/// <summary>A short URL as Shlink's v3 API shows it: every key always present. The domain is always the default one (null).</summary>
public sealed record ShlinkShortUrl(
    string ShortCode,
    string ShortUrl,
    string LongUrl,
    string DateCreated,
    ShlinkVisitsSummary VisitsSummary,
    IReadOnlyList<string> Tags,
    ShlinkMeta Meta,
    string? Domain,
    string? Title,
    bool Crawlable,
    bool ForwardQuery,
    bool HasRedirectRules)
{
    public static ShlinkShortUrl From(Link link, string publicBaseUrl, ShlinkVisitsSummary visits) => new(
        link.Code,
        publicBaseUrl.TrimEnd('/') + "/" + link.Code,
        link.Url,
        ShlinkJson.Date(link.CreatedAt),
        visits,
        link.Tags,
        new ShlinkMeta(ShlinkJson.Date(link.ValidSince), ShlinkJson.Date(link.ExpiresAt), link.MaxVisits),
        null,
        link.Title,
        link.Crawlable,
        link.ForwardQuery,
        false);
}

/// <summary>Shlink's paging: pages counted from 1; at least one page, even when empty.</summary>
public sealed record ShlinkPagination(int CurrentPage, int PagesCount, int ItemsPerPage, int ItemsInCurrentPage, int TotalItems)
{
    public static ShlinkPagination Of(ShlinkPage page, int itemsInCurrentPage, int totalItems)
    {
        var perPage = page.All && totalItems <= page.ItemsPerPage ? Math.Max(totalItems, 1) : page.ItemsPerPage;
        return new ShlinkPagination(page.Number, Math.Max(1, (int)Math.Ceiling(totalItems / (double)perPage)), perPage, itemsInCurrentPage, totalItems);
    }
}

/// <summary>A list's <c>{data, pagination}</c>.</summary>
public sealed record ShlinkList<T>(IReadOnlyList<T> Data, ShlinkPagination Pagination);
