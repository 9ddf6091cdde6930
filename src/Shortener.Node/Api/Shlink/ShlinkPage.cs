using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api.Shlink;

/// <summary>
/// <c>page</c> and <c>itemsPerPage</c> of a Shlink list. A negative page size (or none, where the
/// list's default is all) asks for everything, which is capped at <see cref="MaxItems"/> so that one
/// request cannot make a node build an unbounded answer: past it, pages follow as usual.
/// </summary>
/// <param name="All">Everything was asked for (answered in pages of <see cref="MaxItems"/> when there is more).</param>
public sealed record ShlinkPage(int Number, int ItemsPerPage, bool All)
{
    public const int MaxItems = 5000;

    /// <summary>
    /// How deep a list may page: every shard reads its first skip + take rows to merge them, so a
    /// page far down would have each read (and the node sort) a whole shard.
    /// </summary>
    public const int MaxDepth = 50_000;

    public int Skip => (int)Math.Min((long)(Number - 1) * ItemsPerPage, int.MaxValue);

    /// <summary>
    /// Reads the paging of <paramref name="query"/>; <paramref name="defaultSize"/> null means all,
    /// pages hold at most <paramref name="maxItems"/>. Null when a value is not a number or the
    /// page lies deeper than <see cref="MaxDepth"/>.
    /// </summary>
    public static ShlinkPage? Read(IQueryCollection query, int? defaultSize, int maxItems = MaxItems)
    {
        var number = 1;
        if (query.TryGetValue("page", out var pageText) && !int.TryParse(pageText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return null;
        }

        int? size = defaultSize;
        if (query.TryGetValue("itemsPerPage", out var sizeText))
        {
            if (!int.TryParse(sizeText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var asked))
            {
                return null;
            }

            size = asked < 0 ? null : asked;
        }

        var page = new ShlinkPage(Math.Max(number, 1), Math.Clamp(size ?? maxItems, 1, maxItems), All: size is null);
        return (long)page.Skip + page.ItemsPerPage > MaxDepth ? null : page;
    }
}
