using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Clicks;
using Shortener.Node.Clicks;
using Shortener.Node.Faults;
using Shortener.Node.Membership;
using Shortener.Node.Shards;

namespace Shortener.Node.Api;

/// <summary>
/// GET /dashboard: this node's view of the cluster and the cluster's clicks of the last week, as a
/// page for a browser (see <see cref="DashboardPage"/>). Needs the API key like /admin: a browser
/// asks for it through HTTP Basic (any user name, the key as the password).
/// </summary>
public static class DashboardEndpoints
{
    public const int RefreshSeconds = 5;

    /// <summary>Days the click summary covers, today included.</summary>
    public const int Days = 7;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/dashboard", RenderAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.Admin)
            .WithTags("operations")
            .WithSummary("An HTML dashboard: members with gossip status and phi, shards with leaders and lag, click pipeline and the last week's clicks")
            .Produces(StatusCodes.Status200OK, contentType: "text/html");

    private static async Task<IResult> RenderAsync(HttpContext context, ShardHost shards, MemberList members, NetworkFaults faults, GossipDriver gossip, ClickService clicks, Sinks.SinkService sinks, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var view = ClusterView.Of(shards, members, faults, gossip);
        DashboardPage.Clicks? shown = null;
        if (clicks.Enabled)
        {
            // The summary ends by the click store's own request deadline: nodes that have not
            // answered by then are left out, and the page says how many did.
            var today = ClickEvent.DayOf(now.ToUnixTimeMilliseconds());
            var from = today - (Days - 1);
            var done = await clicks.SummaryAsync(from, today, context.RequestAborted);
            var error = done.Ok ? null : $"no node of the click store answered: {done.Error}";
            shown = new DashboardPage.Clicks(clicks.Figures, done.Summary, error, ClickEndpoints.Date(from), ClickEndpoints.Date(today));
        }

        DashboardPage.Sinks sinkView;
        try
        {
            sinkView = new DashboardPage.Sinks(await sinks.StatusAsync(null, context.RequestAborted), null);
        }
        catch (ShardUnavailableException e)
        {
            sinkView = new DashboardPage.Sinks(null, e.Message);
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        return Results.Content(DashboardPage.Render(view, shown, RefreshSeconds, now, sinkView), "text/html; charset=utf-8");
    }
}
