using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Clicks;
using Shortener.Core.Links;
using Shortener.Node.Clicks;
using Shortener.Node.Hosting;
using Shortener.Node.Links;
using Shortener.Node.Security;

namespace Shortener.Node.Api.Shlink;

/// <summary>Shlink's visits API over the click store (<see cref="ShlinkVisits"/> says what a visit carries here).</summary>
public static class ShlinkVisitEndpoints
{
    /// <summary>The days a cluster-wide visit list covers without a startDate, and at most.</summary>
    public const int DefaultDays = 90;
    public const int MaxDays = 366;

    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapGet("/visits", OverviewAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapGet("/short-urls/{shortCode}/visits", ShortUrlVisitsAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapDelete("/short-urls/{shortCode}/visits", (string shortCode) =>
                ShlinkProblems.Result(ShlinkProblemKind.NotSupported, $"the visits of \"{shortCode}\" cannot be deleted: click history here is append-only (counters replicated across data centres)"))
            .RequireAuthorization(ApiKeyPolicies.Links);
        rest.MapGet("/tags/{tag}/visits", TagVisitsAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapGet("/domains/{domain}/visits", DomainVisitsAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapGet("/visits/non-orphan", (HttpContext context, ClickService clicks, ShlinkVisits visits, NodeAddresses addresses) => NonOrphanAsync(context, clicks, visits, addresses))
            .RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapGet("/visits/orphan", OrphanVisits).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapDelete("/visits/orphan", () => Results.Json(new { deletedVisits = 0 }, ShlinkJson.Options)).RequireAuthorization(ApiKeyPolicies.Links);
    }

    /// <summary>Totals: of every link (or, for a key limited to an owner, of its owner's links); orphan visits are not recorded here.</summary>
    private static async Task<IResult> OverviewAsync(HttpContext context, LinkService links, ShlinkVisits visits)
    {
        ShlinkVisitsSummary nonOrphan;
        if (ApiKeyPolicies.OwnerOf(context.User) is { } owner)
        {
            var own = await links.QueryAsync(new LinkQuery(Owner: owner), 0, ShlinkVisits.MaxLinksRead);
            if (own.Total > ShlinkVisits.MaxLinksRead)
            {
                return ShlinkProblems.Result(ShlinkProblemKind.NotSupported, $"{owner} has {own.Total} short URLs; their visits are read link by link, at most {ShlinkVisits.MaxLinksRead}");
            }

            nonOrphan = (await visits.SummariesAsync(own.Links, context.RequestAborted)).Aggregate(ShlinkVisitsSummary.Empty, (sum, v) => sum.Plus(v));
        }
        else
        {
            nonOrphan = await visits.ClusterAsync(context.RequestAborted);
        }

        return Results.Json(new { visits = new { nonOrphanVisits = nonOrphan, orphanVisits = ShlinkVisitsSummary.Empty } }, ShlinkJson.Options);
    }

    private static async Task<IResult> ShortUrlVisitsAsync(string shortCode, HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses)
    {
        if (Range(context) is not { } range)
        {
            return ShlinkProblems.Invalid("startDate", "startDate, endDate, page and itemsPerPage must be ISO-8601 dates and whole numbers");
        }

        if (await ShlinkShortUrlEndpoints.FindAsync(shortCode, context, links, addresses) is not { } link)
        {
            return ShlinkShortUrlEndpoints.NotFound(shortCode, context);
        }

        var days = await visits.DaysAsync(link, range.From, range.To, context.RequestAborted);
        return Answer(days, range, Describe(link, addresses));
    }

    private static async Task<IResult> TagVisitsAsync(string tag, HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses)
    {
        if (Range(context) is not { } range)
        {
            return ShlinkProblems.Invalid("startDate", "startDate, endDate, page and itemsPerPage must be ISO-8601 dates and whole numbers");
        }

        var tagged = await links.QueryAsync(new LinkQuery(Tags: [tag], Owner: ApiKeyPolicies.OwnerOf(context.User)), 0, ShlinkVisits.MaxLinksRead + 1);
        if (tagged.Total == 0)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.TagNotFound, $"Tag with name \"{tag}\" could not be found", new Dictionary<string, object?> { ["tag"] = tag });
        }

        if (tagged.Total > ShlinkVisits.MaxLinksRead)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.NotSupported, $"{tagged.Total} short URLs have the tag {tag}; a tag's visits are read link by link, at most {ShlinkVisits.MaxLinksRead}");
        }

        var days = await visits.MergedDaysAsync(tagged.Links, range.From, range.To, context.RequestAborted);
        return Answer(days, range, v => v with { VisitedUrl = string.Empty });
    }

    private static Task<IResult> DomainVisitsAsync(string domain, HttpContext context, ClickService clicks, ShlinkVisits visits, NodeAddresses addresses) =>
        ShlinkShortUrlEndpoints.IsDefaultDomain(domain, addresses)
            ? NonOrphanAsync(context, clicks, visits, addresses)
            : Task.FromResult(ShlinkProblems.Result(ShlinkProblemKind.DomainNotFound, $"Domain with authority \"{domain}\" could not be found", new Dictionary<string, object?> { ["authority"] = domain }));

    /// <summary>
    /// Every link's visits per day, from the cluster-wide summary of each day (one read per day,
    /// so the range is bounded: the last <see cref="DefaultDays"/> days without a startDate, at most
    /// <see cref="MaxDays"/>). A key limited to an owner gets 403: the summary covers every link.
    /// </summary>
    private static async Task<IResult> NonOrphanAsync(HttpContext context, ClickService clicks, ShlinkVisits visits, NodeAddresses addresses)
    {
        if (ApiKeyPolicies.OwnerOf(context.User) is { } owner)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.Forbidden, $"this key sees only the short URLs of {owner}; ask each one's visits instead");
        }

        if (Range(context) is not { } range)
        {
            return ShlinkProblems.Invalid("startDate", "startDate, endDate, page and itemsPerPage must be ISO-8601 dates and whole numbers");
        }

        var to = Math.Min(visits.Today, range.To is { } end ? ClickEvent.DayOf(end) : int.MaxValue);
        var from = range.From is { } start ? ClickEvent.DayOf(start) : to - DefaultDays + 1;
        if (to - from + 1 > MaxDays)
        {
            return ShlinkProblems.Invalid("startDate", $"a cluster-wide visit list covers at most {MaxDays} days");
        }

        var days = new List<ClickDay>();
        if (clicks.Enabled)
        {
            var perDay = new ClickDay?[Math.Max(0, to - from + 1)];
            await Parallel.ForAsync(0, perDay.Length, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = context.RequestAborted }, async (i, ct) =>
            {
                var done = await clicks.SummaryAsync(from + i, from + i, ct);
                perDay[i] = done.Ok
                    ? new ClickDay(from + i, done.Summary!.Human, done.Summary.Bots)
                    : throw new VisitsUnavailableException($"no node of the click store answered: {done.Error}");
            });
            days.AddRange(perDay.Select(d => d!));
        }

        var host = addresses.PublicBaseUrl.TrimEnd('/');
        return Answer(days, range, v => v with { VisitedUrl = host });
    }

    /// <summary>Visits to codes that do not exist, or to the base URL: this cluster does not record them, so the list is empty.</summary>
    private static IResult OrphanVisits(HttpContext context)
    {
        if (context.Request.Query["type"].ToString() is { Length: > 0 } type && type is not ("invalid_short_url" or "base_url" or "regular_404"))
        {
            return ShlinkProblems.Invalid("type", "type must be invalid_short_url, base_url or regular_404");
        }

        return Range(context) is { } range
            ? Answer([], range, v => v)
            : ShlinkProblems.Invalid("startDate", "startDate, endDate, page and itemsPerPage must be ISO-8601 dates and whole numbers");
    }

    private static Func<ShlinkVisit, ShlinkVisit> Describe(Link link, NodeAddresses addresses)
    {
        var shortUrl = addresses.PublicBaseUrl.TrimEnd('/') + "/" + link.Code;
        return v => v with { VisitedUrl = shortUrl, RedirectUrl = link.Url };
    }

    private sealed record VisitRange(long? From, long? To, bool ExcludeBots, ShlinkPage Page);

    /// <summary>startDate, endDate, excludeBots (true only when "true") and the page (all by default); null when a value is unreadable.</summary>
    private static VisitRange? Range(HttpContext context)
    {
        var query = context.Request.Query;
        var (from, fromProblem) = ShlinkRequest.Date(query, "startDate");
        var (to, toProblem) = ShlinkRequest.Date(query, "endDate");
        var page = ShlinkPage.Read(query, defaultSize: null);
        return fromProblem is null && toProblem is null && page is not null ? new VisitRange(from, to, ShlinkRequest.Flag(query, "excludeBots"), page) : null;
    }

    private static IResult Answer(IReadOnlyList<ClickDay> days, VisitRange range, Func<ShlinkVisit, ShlinkVisit> describe) =>
        Results.Json(new { visits = ShlinkVisits.Page(days, range.ExcludeBots, range.Page, describe) }, ShlinkJson.Options);
}
