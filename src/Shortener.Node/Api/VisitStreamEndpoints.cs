using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Clicks;

namespace Shortener.Node.Api;

/// <summary>
/// GET /api/v1/visits/changes (docs/cdc.md): the visits this node serves, in its click outbox's
/// order, as they happen: long-poll JSON pages, or Server-Sent Events with <c>Accept:
/// text/event-stream</c> (<c>Last-Event-ID</c> resumes). Positions are <c>node:sequence</c>; each
/// node streams its own visits.
/// </summary>
public static class VisitStreamEndpoints
{
    public const int MaxLimit = 1000;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/visits/changes", ReadAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.ReadOnly)
            .WithTags("changes")
            .WithName("ReadVisits")
            .WithSummary("The visits this node serves, as CloudEvents in its outbox order, after a position (after=node:sequence; none: from the oldest held): a JSON page that waits up to wait= seconds, or a text/event-stream")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces(StatusCodes.Status200OK, contentType: ServerSentEvents.ContentType)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(410).ProducesProblem(503);

    private static async Task<IResult> ReadAsync(HttpContext context, ClickService clicks, TimeProvider time)
    {
        if (clicks.Visits is not { } feed)
        {
            return Problems.Result(ProblemKind.ClicksDisabled, "this node records no clicks (Shortener:Clicks:Enabled is false), so it has no visits to stream");
        }

        var query = context.Request.Query;
        var streaming = ServerSentEvents.Asked(context.Request);
        var given = streaming && ServerSentEvents.LastEventId(context.Request) is { Length: > 0 } resume ? resume : query["after"].ToString();
        var position = feed.Oldest;
        if (given.Length > 0)
        {
            if (VisitPosition.Parse(given) is not { } parsed)
            {
                return Problems.Result(ProblemKind.MalformedRequest, "after (or Last-Event-ID) must be a position this stream handed out (node:sequence), or absent to start from the oldest visit held");
            }

            if (parsed.Node != feed.Node)
            {
                return Problems.Result(ProblemKind.MalformedRequest, $"{given} is a position in node {parsed.Node}'s visits; this is node {feed.Node}: each node streams the visits it serves");
            }

            position = parsed;
        }

        if (EventFeedQuery.TryRead(query, MaxLimit, out var limit, out var wait) is { } bad)
        {
            return bad;
        }

        var cancellation = context.RequestAborted;
        try
        {
            var changed = feed.WhenChangedAsync();
            var page = feed.Read(position, streaming ? MaxLimit : limit);
            if (!streaming)
            {
                if (page.Visits.Count == 0 && wait > 0)
                {
                    await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(wait), time, cancellation));
                    page = feed.Read(position, limit);
                }

                return EventFeedQuery.Page(page.Visits.Select(v => VisitEventFormat.Encode(v, feed.Node)), page.Next.ToString());
            }

            ServerSentEvents.Begin(context.Response);
            while (true)
            {
                foreach (var visit in page.Visits)
                {
                    await ServerSentEvents.WriteAsync(context.Response, null, new VisitPosition(feed.Node, visit.Seq).ToString(), VisitEventFormat.Encode(visit, feed.Node), cancellation);
                }

                await context.Response.Body.FlushAsync(cancellation);
                if (page.Visits.Count < MaxLimit)
                {
                    await ServerSentEvents.WaitAsync(context.Response, changed, time, cancellation);
                }

                changed = feed.WhenChangedAsync();
                page = feed.Read(page.Next, MaxLimit);
            }
        }
        catch (VisitsExpiredException e) when (!context.Response.HasStarted)
        {
            return Problems.Result(ProblemKind.ChangesExpired, e.Message);
        }
        catch (VisitsExpiredException)
        {
            // A stream that fell more than the held visits behind ends; its client reconnects and is told why.
            return Results.Empty;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }
}
