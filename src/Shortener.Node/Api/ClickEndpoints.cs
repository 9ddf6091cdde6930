using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Clicks;
using Shortener.Node.Clicks;
using Shortener.Node.Links;

namespace Shortener.Node.Api;

/// <summary>Click analytics: one link's stats, and a summary over the cluster. Both need the API key (referrers are the link owner's business).</summary>
public static class ClickEndpoints
{
    /// <summary>The longest range of days one request may ask for.</summary>
    public const int MaxDays = 3_660;

    /// <summary>The range when none is given: the last 30 UTC days, today included.</summary>
    public const int DefaultDays = 30;

    private static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/links/{code}/stats", StatsAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.ReadOnly)
            .WithTags("clicks")
            .WithName("GetLinkStats")
            .WithSummary("A link's clicks per day, humans and bots apart, and its top referrers; from/to are UTC dates (YYYY-MM-DD), consistency one|quorum|all|local-quorum")
            .Produces<ClickStatsResponse>()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(503);

        app.MapGet("/api/v1/stats/summary", SummaryAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.ReadOnly)
            .WithTags("clicks")
            .WithName("GetClickSummary")
            .WithSummary("Clicks over the whole cluster in a range of UTC days, and the links with the most")
            .Produces<ClickSummaryResponse>()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(503);
    }

    private static async Task<IResult> StatsAsync(string code, HttpContext context, ClickService clicks, LinkService links)
    {
        if (!clicks.Enabled)
        {
            return Problems.Result(ProblemKind.ClicksDisabled, "click tracking is off on this node (Shortener:Clicks:Delivery=off)");
        }

        if (DaysOf(context, links.NowMs) is not { } range)
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"from and to are UTC dates (YYYY-MM-DD), from no later than to, at most {MaxDays} days apart");
        }

        var consistency = context.Request.Query["consistency"].ToString();
        var level = consistency.Length == 0 ? clicks.DefaultReadLevel : ClickOptions.ParseLevel(consistency);
        if (level is null)
        {
            return Problems.Result(ProblemKind.MalformedRequest, "consistency must be one, quorum, all or local-quorum");
        }

        if (links.Get(code) is not { } link || !link.VisibleTo(Security.ApiKeyPolicies.OwnerOf(context.User)))
        {
            return Problems.Result(ProblemKind.NotFound, $"no link has the code '{code}'");
        }

        var done = await clicks.ReadAsync(code, range.From, range.To, level.Value, context.RequestAborted);
        if (!done.Ok)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problems.Result(ProblemKind.ClicksUnavailable, $"the clicks of '{code}' could not be read at {ClickOptions.LevelName(level.Value)}: {done.Error}; retry, or ask with consistency=one");
        }

        var stats = done.Stats!;
        var byDay = stats.Days.ToDictionary(d => d.Day);
        var days = new List<ClickDayResponse>(range.To - range.From + 1);
        for (var day = range.From; day <= range.To; day++)
        {
            var d = byDay.GetValueOrDefault(day) ?? new ClickDay(day, 0, 0);
            days.Add(new ClickDayResponse(Date(day), d.Human + d.Bots, d.Human, d.Bots));
        }

        return Results.Ok(new ClickStatsResponse(
            code,
            Date(range.From),
            Date(range.To),
            ClickOptions.LevelName(level.Value),
            stats.Total,
            stats.Human,
            stats.Bots,
            days,
            stats.TopReferrers.Select(r => new ReferrerResponse(r.Referrer, r.Clicks)).ToList(),
            done.Repaired));
    }

    private static async Task<IResult> SummaryAsync(HttpContext context, ClickService clicks, LinkService links)
    {
        if (Security.ApiKeyPolicies.OwnerOf(context.User) is { } owner)
        {
            return Problems.Result(ProblemKind.Forbidden, $"this key sees only the links of {owner}; the summary covers every link (ask each link's stats instead)");
        }

        if (!clicks.Enabled)
        {
            return Problems.Result(ProblemKind.ClicksDisabled, "click tracking is off on this node (Shortener:Clicks:Delivery=off)");
        }

        if (DaysOf(context, links.NowMs) is not { } range)
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"from and to are UTC dates (YYYY-MM-DD), from no later than to, at most {MaxDays} days apart");
        }

        var done = await clicks.SummaryAsync(range.From, range.To, context.RequestAborted);
        if (!done.Ok)
        {
            return Problems.Result(ProblemKind.ClicksUnavailable, $"no node of the click store answered: {done.Error}");
        }

        var s = done.Summary!;
        return Results.Ok(new ClickSummaryResponse(
            Date(range.From),
            Date(range.To),
            s.Total,
            s.Human,
            s.Bots,
            s.TopLinks.Select(l => new LinkClicksResponse(l.Code, l.Total, l.Human, l.Bots)).ToList(),
            s.Answered,
            s.Asked,
            s.RangesCovered == s.Ranges));
    }

    /// <summary>The request's from/to as days since 1970-01-01; the last <see cref="DefaultDays"/> days when absent; null when malformed.</summary>
    private static (int From, int To)? DaysOf(HttpContext context, long nowMs)
    {
        var today = ClickEvent.DayOf(nowMs);
        var to = Parse(context.Request.Query["to"].ToString(), today);
        var from = Parse(context.Request.Query["from"].ToString(), (to ?? today) - (DefaultDays - 1));
        if (from is null || to is null || from > to || to - from >= MaxDays)
        {
            return null;
        }

        return (from.Value, to.Value);
    }

    private static int? Parse(string text, int fallback)
    {
        if (text.Length == 0)
        {
            return fallback;
        }

        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date.DayNumber - Epoch
            : null;
    }

    internal static string Date(int day) => DateOnly.FromDayNumber(Epoch + day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
