using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Sinks;

namespace Shortener.Node.Api;

/// <summary>POST /admin/v1/sinks: kind (redis|webhook), name, url, topic (links), stream (Redis), secret (webhook; made when left out), from (now|oldest).</summary>
public sealed record AddSinkRequest(string? Name, string? Kind, string? Url, string? Topic, string? Stream, string? Secret, string? From);

/// <summary>GET /admin/v1/sinks: the cluster's sinks (secrets masked) at a version.</summary>
public sealed record SinkListResponse(long Version, IReadOnlyList<SinkDefinition> Sinks);

/// <summary>/admin/v1/sinks: the cluster's change-data-capture sinks (docs/cdc.md), replicated through shard 0.</summary>
public static class SinkEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/sinks", AddAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("AddSink")
            .WithSummary("Add a sink (redis or webhook) that every change event is delivered to; a webhook's secret is in this answer only")
            .Accepts<AddSinkRequest>("application/json")
            .Produces<SinkDefinition>(StatusCodes.Status201Created)
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(415).ProducesProblem(422).ProducesProblem(503);

        admin.MapGet("/sinks", async (HttpContext context, SinkService sinks) =>
            {
                var (version, list) = await sinks.ListAsync(context.RequestAborted);
                return Results.Ok(new SinkListResponse(version, [.. list.Sinks.Select(s => s.Public())]));
            })
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("ListSinks")
            .WithSummary("The cluster's sinks, secrets masked")
            .Produces<SinkListResponse>()
            .ProducesProblem(503);

        admin.MapGet("/sinks/status", (HttpContext context, SinkService sinks) => StatusAsync(null, context, sinks))
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("SinkStatus")
            .WithSummary("Every sink's delivery per shard: holder, fencing token, offset delivered through, lag in events and milliseconds, dead letters")
            .Produces<IReadOnlyList<SinkStatus>>()
            .ProducesProblem(503);

        admin.MapGet("/sinks/{name}/status", (string name, HttpContext context, SinkService sinks) => StatusAsync(name, context, sinks))
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("OneSinkStatus")
            .WithSummary("One sink's delivery per shard")
            .Produces<IReadOnlyList<SinkStatus>>()
            .ProducesProblem(404).ProducesProblem(503);

        admin.MapDelete("/sinks/{name}", async (string name, HttpContext context, SinkService sinks) =>
            {
                try
                {
                    return Results.Ok((await sinks.RemoveAsync(name, context.RequestAborted)).Public());
                }
                catch (SinkRefusedException e)
                {
                    return Refused(e);
                }
            })
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("RemoveSink")
            .WithSummary("Remove a sink: its deliverers stop on every node once it applies the change")
            .Produces<SinkDefinition>()
            .ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);
    }

    private static async Task<IResult> AddAsync(HttpContext context, SinkService sinks, TimeProvider time)
    {
        var (request, problem) = await AdminEndpoints.ReadSmallAsync<AddSinkRequest>(
            context, "{\"name\": ..., \"kind\": \"redis\"|\"webhook\", \"url\": ..., \"topic\": \"links\", \"stream\": <redis>, \"secret\": <webhook, optional>, \"from\": \"now\"|\"oldest\"}");
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var sink = SinkDefinition.Validate(request?.Name, request?.Kind, request?.Url, request?.Topic, request?.Stream, request?.Secret, time.GetUtcNow().ToUnixTimeMilliseconds(), request?.From);
            var added = await sinks.AddAsync(sink, context.RequestAborted);
            return Results.Created($"/admin/v1/sinks/{added.Name}/status", added.Public(withSecret: true));
        }
        catch (SinkRefusedException e)
        {
            return Refused(e);
        }
    }

    private static async Task<IResult> StatusAsync(string? name, HttpContext context, SinkService sinks)
    {
        try
        {
            return Results.Ok(await sinks.StatusAsync(name, context.RequestAborted));
        }
        catch (SinkRefusedException e)
        {
            return Refused(e);
        }
    }

    private static IResult Refused(SinkRefusedException e) => Problems.Result(
        e.Refusal switch
        {
            SinkRefusal.Invalid => ProblemKind.InvalidField,
            SinkRefusal.Unreachable => ProblemKind.SinkUnreachable,
            SinkRefusal.Exists => ProblemKind.SinkExists,
            SinkRefusal.NotFound => ProblemKind.NoSuchSink,
            _ => ProblemKind.SinkConflict,
        },
        e.Message);
}
