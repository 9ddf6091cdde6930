using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Shortener.Core.Changes;
using Shortener.Node.Changes;
using Shortener.Node.Hosting;

namespace Shortener.Node.Api;

/// <summary>GET /api/v1/changes: the change feed as JSON pages (docs/cdc.md); Server-Sent Events and long polling are still to come.</summary>
public static class ChangeEndpoints
{
    public const int DefaultLimit = 100;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/changes", ReadAsync)
            .RequireAuthorization(Security.ApiKeyPolicies.ReadOnly)
            .WithTags("changes")
            .WithName("ReadChanges")
            .WithSummary("Link changes after a position (after=shard:index.position,…; none: from the oldest kept), as CloudEvents with Debezium's envelope, and the position to ask from next")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(410);

    private static async Task<IResult> ReadAsync(HttpContext context, ChangeFeed feed, IOptions<ClusterOptions> cluster)
    {
        var query = context.Request.Query;
        if (ChangePosition.Parse(query["after"]) is not { } position)
        {
            return Problems.Result(ProblemKind.MalformedRequest, "after must be a position this feed handed out (next of the previous page: shard:index.position,…), or absent to start from the oldest kept change");
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var text) && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ChangeFeed.MaxLimit))
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"limit must be a whole number from 1 to {ChangeFeed.MaxLimit}");
        }

        try
        {
            var page = await feed.ReadAsync(position, limit, context.RequestAborted);
            return Results.Bytes(ChangeFeed.Encode(page, new ChangeEventFormat(cluster.Value.NodeId)), "application/json");
        }
        catch (ChangesExpiredException e)
        {
            return Problems.Result(ProblemKind.ChangesExpired, e.Message, new Dictionary<string, object?> { ["shard"] = e.Shard });
        }
    }
}
