namespace Shortener.Core.Links;

/// <summary>The fields live links can be ordered by in a <see cref="LinkQuery"/>; ties are broken by code.</summary>
public enum LinkOrder
{
    DateCreated,
    ShortCode,
    LongUrl,
    Title,
}

/// <summary>
/// A filtered, ordered selection of live links (the Shlink list's filters): every filter left null
/// or false selects everything. Search terms match code, URL, title and tags, case-insensitively
/// for ASCII.
/// </summary>
/// <param name="AllTags">Links must have every one of <paramref name="Tags"/> (else any one).</param>
/// <param name="AllExcludeTags">Links are left out only when they have every one of <paramref name="ExcludeTags"/> (else any one).</param>
/// <param name="ExcludeExpiredAt">When set, links expired at that time are left out.</param>
/// <param name="Url">When set, only links to exactly this URL.</param>
/// <param name="CrawlableOnly">Only links search engines may follow.</param>
public sealed record LinkQuery(
    string? SearchTerm = null,
    IReadOnlyList<string>? Tags = null,
    bool AllTags = false,
    IReadOnlyList<string>? ExcludeTags = null,
    bool AllExcludeTags = false,
    long? CreatedFrom = null,
    long? CreatedTo = null,
    bool ExcludeMaxVisitsReached = false,
    long? ExcludeExpiredAt = null,
    string? Owner = null,
    LinkOrder Order = LinkOrder.DateCreated,
    bool Descending = true,
    string? Url = null,
    bool CrawlableOnly = false)
{
    /// <summary>Orders links as the query's ORDER BY does (ordinal text, nulls first, then by code), so pages of several shards merge.</summary>
    public int Compare(Link a, Link b)
    {
        var order = Order switch
        {
            LinkOrder.DateCreated => a.CreatedAt.CompareTo(b.CreatedAt),
            LinkOrder.ShortCode => 0,
            LinkOrder.LongUrl => string.CompareOrdinal(a.Url, b.Url),
            LinkOrder.Title => string.CompareOrdinal(a.Title, b.Title),
            _ => throw new ArgumentOutOfRangeException(nameof(Order), Order, null),
        };
        if (order == 0)
        {
            order = string.CompareOrdinal(a.Code, b.Code);
        }

        return Descending ? -order : order;
    }
}

/// <summary>The first links of a <see cref="LinkQuery"/> and how many links match it in all.</summary>
public sealed record LinkQueryPage(IReadOnlyList<Link> Links, int Total);
