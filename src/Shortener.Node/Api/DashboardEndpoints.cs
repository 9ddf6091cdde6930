using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Clicks;
using Shortener.Node.Cluster;

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

    /// <summary>How long the page waits for the click store before it shows the rest without the summary.</summary>
    public static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(2);

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/dashboard", RenderAsync)
            .RequireAuthorization()
            .WithTags("operations")
            .WithSummary("An HTML dashboard: members with gossip status and phi, shards with leaders and lag, click pipeline and the last week's clicks")
            .Produces(StatusCodes.Status200OK, contentType: "text/html");

    private static async Task<IResult> RenderAsync(HttpContext context, ShardHost host, GossipDriver gossip, ClickService clicks, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var view = ClusterView.Of(host, gossip);
        DashboardPage.Clicks? shown = null;
        if (clicks.Enabled)
        {
            var today = (int)Math.Floor(now.ToUnixTimeMilliseconds() / 86_400_000.0);
            var from = today - (Days - 1);
            Core.Clicks.ClickSummary? summary = null;
            string? error;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(SummaryTimeout);
            try
            {
                var done = await clicks.SummaryAsync(from, today, timeout.Token);
                summary = done.Summary;
                error = done.Ok ? null : $"no node of the click store answered: {done.Error}";
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                error = $"the click store did not answer within {SummaryTimeout.TotalSeconds:0} s";
            }

            shown = new DashboardPage.Clicks(clicks.Figures, summary, error, ClickEndpoints.Date(from), ClickEndpoints.Date(today));
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        return Results.Content(DashboardPage.Render(view, shown, RefreshSeconds, now), "text/html; charset=utf-8");
    }
}
