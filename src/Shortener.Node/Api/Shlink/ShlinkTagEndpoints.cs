using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Shortener.Core.Links;
using Shortener.Node.Hosting;
using Shortener.Node.Links;
using Shortener.Node.Security;

namespace Shortener.Node.Api.Shlink;

/// <summary>
/// Shlink's tags API. Tags live on links, so a rename or delete changes every link that has the
/// tag, one link command each: each change is atomic, the whole is not (a crash half-way leaves some
/// links renamed; running it again finishes it).
/// </summary>
public static class ShlinkTagEndpoints
{
    /// <summary>How many links a rename or delete changes per round (it repeats until none is left).</summary>
    private const int Batch = 200;

    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapGet("/tags", ListAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapGet("/tags/stats", StatsAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapPut("/tags", RenameAsync).RequireAuthorization(ApiKeyPolicies.Links);
        rest.MapDelete("/tags", DeleteAsync).RequireAuthorization(ApiKeyPolicies.Links);
    }

    private static async Task<IResult> ListAsync(HttpContext context, LinkService links)
    {
        if (await SelectAsync(context, links, stats: false) is not { } selected)
        {
            return ShlinkProblems.Invalid("orderBy", "orderBy must be tag-ASC or tag-DESC; page and itemsPerPage whole numbers");
        }

        var (page, tags, total) = selected;
        return Results.Json(new { tags = new ShlinkList<string>([.. tags.Select(t => t.Tag)], ShlinkPagination.Of(page, tags.Count, total)) }, ShlinkJson.Options);
    }

    private sealed record TagStats(string Tag, int ShortUrlsCount, ShlinkVisitsSummary VisitsSummary);

    /// <summary>Each tag with its short URL count and visits (read link by link: at most <see cref="ShlinkVisits.MaxLinksRead"/> links per page).</summary>
    private static async Task<IResult> StatsAsync(HttpContext context, LinkService links, ShlinkVisits visits)
    {
        if (await SelectAsync(context, links, stats: true) is not { } selected)
        {
            return ShlinkProblems.Invalid("orderBy", "orderBy must be tag, shortUrlsCount, visits or nonBotVisits with -ASC or -DESC; page and itemsPerPage whole numbers");
        }

        var (page, tags, total) = selected;
        var owner = ApiKeyPolicies.OwnerOf(context.User);
        if (tags.Sum(t => t.Links) > ShlinkVisits.MaxLinksRead)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.NotSupported, $"these tags are on {tags.Sum(t => t.Links)} short URLs; tag visits are read link by link, at most {ShlinkVisits.MaxLinksRead} a page: ask fewer tags per page");
        }

        var data = new List<TagStats>(tags.Count);
        foreach (var (tag, count) in tags)
        {
            var tagged = await links.QueryAsync(new LinkQuery(Tags: [tag], Owner: owner), 0, ShlinkVisits.MaxLinksRead);
            var summary = (await visits.SummariesAsync(tagged.Links, context.RequestAborted)).Aggregate(ShlinkVisitsSummary.Empty, (sum, v) => sum.Plus(v));
            data.Add(new TagStats(tag, count, summary));
        }

        var order = context.Request.Query["orderBy"].ToString();
        IEnumerable<TagStats> ordered = order switch
        {
            "visits-ASC" or "visits" => data.OrderBy(t => t.VisitsSummary.Total),
            "visits-DESC" => data.OrderByDescending(t => t.VisitsSummary.Total),
            "nonBotVisits-ASC" or "nonBotVisits" => data.OrderBy(t => t.VisitsSummary.NonBots),
            "nonBotVisits-DESC" => data.OrderByDescending(t => t.VisitsSummary.NonBots),
            _ => data,
        };
        return Results.Json(new { tags = new ShlinkList<TagStats>([.. ordered], ShlinkPagination.Of(page, data.Count, total)) }, ShlinkJson.Options);
    }

    /// <summary>
    /// The tags a list asks for (searchTerm, orderBy by name or count, page: all by default).
    /// Ordering by visits is done by the caller over the page; across pages it is by name.
    /// </summary>
    private static async Task<(ShlinkPage Page, IReadOnlyList<(string Tag, int Links)> Tags, int Total)?> SelectAsync(HttpContext context, LinkService links, bool stats)
    {
        var query = context.Request.Query;
        if (ShlinkPage.Read(query, defaultSize: null) is not { } page)
        {
            return null;
        }

        var all = await links.TagCountsAsync(ApiKeyPolicies.OwnerOf(context.User));
        IEnumerable<(string Tag, int Links)> tags = query["searchTerm"].ToString() is { Length: > 0 } term
            ? all.Where(t => t.Tag.Contains(term, StringComparison.OrdinalIgnoreCase))
            : all;
        switch (query["orderBy"].ToString())
        {
            case "" or "tag" or "tag-ASC":
                break;
            case "tag-DESC":
                tags = tags.Reverse();
                break;
            case "shortUrlsCount" or "shortUrlsCount-ASC" when stats:
                tags = tags.OrderBy(t => t.Links);
                break;
            case "shortUrlsCount-DESC" when stats:
                tags = tags.OrderByDescending(t => t.Links);
                break;
            case "visits" or "visits-ASC" or "visits-DESC" or "nonBotVisits" or "nonBotVisits-ASC" or "nonBotVisits-DESC" when stats:
                break;
            default:
                return null;
        }

        var matching = tags.ToList();
        return (page, [.. matching.Skip(page.Skip).Take(page.ItemsPerPage)], matching.Count);
    }

    private static async Task<IResult> RenameAsync(HttpContext context, LinkService links, IOptions<NodeOptions> options)
    {
        if (ApiKeyPolicies.OwnerOf(context.User) is not null)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.ForbiddenTagOperation, "You are not allowed to rename tags");
        }

        var (document, problem) = await ShlinkRequest.ObjectAsync(context, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        string? oldName, newName;
        using (document)
        {
            oldName = ShlinkRequest.String(document!.RootElement, "oldName").Value?.Trim();
            newName = ShlinkRequest.String(document.RootElement, "newName").Value;
        }

        var (renamed, tagProblem) = ShlinkRequest.Tags([newName], "newName");
        if (string.IsNullOrEmpty(oldName) || newName is null || tagProblem is not null)
        {
            return ShlinkProblems.Result(
                ShlinkProblemKind.InvalidData,
                "Provided data is not valid: oldName and newName are required, and newName must be a valid tag",
                new Dictionary<string, object?> { ["invalidElements"] = new[] { "oldName", "newName" } });
        }

        var target = renamed![0];
        var tags = await links.TagCountsAsync(null);
        if (target == oldName && tags.Any(t => t.Tag == oldName))
        {
            return Results.NoContent();
        }

        if (!tags.Any(t => t.Tag == oldName))
        {
            return ShlinkProblems.Result(ShlinkProblemKind.TagNotFound, $"Tag with name \"{oldName}\" could not be found", new Dictionary<string, object?> { ["tag"] = oldName });
        }

        if (target != oldName && tags.Any(t => t.Tag == target))
        {
            return ShlinkProblems.Result(
                ShlinkProblemKind.TagConflict,
                $"You cannot rename tag {oldName} to {target}, because it already exists",
                new Dictionary<string, object?> { ["oldName"] = oldName, ["newName"] = target });
        }

        await RewriteAsync(links, oldName, tags => [.. tags.Select(t => t == oldName ? target : t).Distinct(StringComparer.Ordinal)], context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, LinkService links)
    {
        if (ApiKeyPolicies.OwnerOf(context.User) is not null)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.ForbiddenTagOperation, "You are not allowed to delete tags");
        }

        foreach (var tag in ShlinkRequest.Array(context.Request.Query, "tags").Distinct(StringComparer.Ordinal))
        {
            await RewriteAsync(links, tag, tags => [.. tags.Where(t => t != tag)], context.RequestAborted);
        }

        return Results.NoContent();
    }

    /// <summary>
    /// Changes the tags of every live link that has <paramref name="tag"/>, a batch at a time, until
    /// none has it. <paramref name="change"/> must remove the tag. Bounded: a round that leaves as
    /// many links tagged as before (a link that cannot be changed) ends it.
    /// </summary>
    private static async Task RewriteAsync(LinkService links, string tag, Func<IReadOnlyList<string>, IReadOnlyList<string>> change, CancellationToken cancellationToken)
    {
        var left = int.MaxValue;
        while (true)
        {
            var tagged = await links.QueryAsync(new LinkQuery(Tags: [tag]), 0, Batch);
            if (tagged.Total == 0 || tagged.Total >= left)
            {
                return;
            }

            left = tagged.Total;
            foreach (var link in tagged.Links)
            {
                await links.SubmitAsync(new UpdateLink(links.NowMs, link.Code, new LinkPatch(Tags: change(link.Tags))), null, cancellationToken);
            }
        }
    }
}
