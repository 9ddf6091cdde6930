using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Changes;
using Shortener.Node.Changes;

namespace Shortener.Node.Api;

/// <summary>
/// GET /api/v1/changes (docs/cdc.md): the change feed as long-poll JSON pages, or, asked with
/// <c>Accept: text/event-stream</c>, as Server-Sent Events that resume from <c>Last-Event-ID</c>
/// and can start with a snapshot of every live link (<c>snapshot=initial</c>).
/// </summary>
public static class ChangeEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/changes", ReadAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.ReadOnly)
            .WithTags("changes")
            .WithName("ReadChanges")
            .WithSummary("Link changes after a position (after=shard:index.position,…; none: from the oldest kept) as CloudEvents with Debezium's envelope: a JSON page {events, next} that waits up to wait= seconds for one, or with Accept: text/event-stream a stream (Last-Event-ID resumes; snapshot=initial sends every live link first)")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces(StatusCodes.Status200OK, contentType: ServerSentEvents.ContentType)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(410);

    private static async Task<IResult> ReadAsync(HttpContext context, ChangeFeed feed, ChangeStream stream, ChangeEventFormat format)
    {
        var query = context.Request.Query;
        var streaming = ServerSentEvents.Asked(context.Request);
        var resume = streaming ? ServerSentEvents.LastEventId(context.Request) : string.Empty;
        var snapshot = query["snapshot"].ToString() switch
        {
            "" => false,
            "initial" => true,
            _ => (bool?)null,
        };
        if (snapshot is null)
        {
            return Problems.Result(ProblemKind.MalformedRequest, "snapshot must be initial (every live link first, then the changes after them), or absent");
        }

        if (snapshot.Value && !streaming)
        {
            return Problems.Result(ProblemKind.MalformedRequest, "snapshot=initial is a stream: ask with Accept: text/event-stream");
        }

        if (snapshot.Value && query.ContainsKey("after"))
        {
            return Problems.Result(ProblemKind.MalformedRequest, "snapshot=initial starts from the links as they are now: leave after out");
        }

        if (ChangePosition.Parse(resume.Length > 0 ? resume : query["after"]) is not { } position)
        {
            return Problems.Result(ProblemKind.MalformedRequest, "after (or Last-Event-ID) must be a position this feed handed out (next of the previous page: shard:index.position,…), or absent to start from the oldest kept change");
        }

        if (EventFeedQuery.TryRead(query, ChangeFeed.MaxLimit, out var limit, out var wait) is { } bad)
        {
            return bad;
        }

        var cancellation = context.RequestAborted;
        try
        {
            var changed = feed.WhenChangedAsync();
            var page = snapshot.Value ? null : await feed.ReadAsync(position, streaming ? ChangeFeed.MaxLimit : limit, cancellation);
            if (streaming)
            {
                ServerSentEvents.Begin(context.Response);
                if (snapshot.Value)
                {
                    position = await stream.WriteSnapshotAsync(context.Response, cancellation);
                }

                await stream.FollowAsync(context.Response, position, page, cancellation);
                return Results.Empty;
            }

            if (page!.Changes.Count == 0 && wait > 0)
            {
                // Long polling: an empty page waits for the next change (or the wait) and reads again.
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(wait), cancellation));
                page = await feed.ReadAsync(position, limit, cancellation);
            }

            return EventFeedQuery.Page(page.Changes.Select(format.Encode), page.Next.ToString());
        }
        catch (ChangesExpiredException e)
        {
            return Problems.Result(ProblemKind.ChangesExpired, e.Message, new Dictionary<string, object?> { ["shard"] = e.Shard });
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The client went away (the usual end of a stream).
            return Results.Empty;
        }
    }
}
