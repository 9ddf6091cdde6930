using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Raft;
using Shortener.Node.Cluster;
using Shortener.Node.Hosting;

namespace Shortener.Node.Api;

/// <summary>
/// /admin/v1: the cluster as this node sees it, leadership transfer, and fault injection. Needs the
/// API key like every write.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1").WithTags("admin").RequireAuthorization();

        admin.MapGet("/cluster", (ShardHost host) => Results.Ok(ClusterView.Of(host)))
            .WithName("ClusterStatus")
            .WithSummary("The cluster's members and this node's replica of every shard (role, term, leader, commit, applied, lag)")
            .Produces<ClusterView>();

        admin.MapPost("/shards/{shard:int}/transfer-leader", TransferLeaderAsync)
            .WithName("TransferLeader")
            .WithSummary("Hand a shard's leadership to another voter; must be sent to the current leader")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422).ProducesProblem(503);

        admin.MapPost("/faults", InjectFaultAsync)
            .WithName("InjectFault")
            .WithSummary("Partition, delay, drop or pause (on every node, or scope=node for this one); forSeconds makes it heal itself")
            .Accepts<FaultSpec>("application/json")
            .Produces<IReadOnlyList<FaultOutcome>>()
            .ProducesProblem(400).ProducesProblem(422);

        admin.MapDelete("/faults", async (FaultInjector faults, CancellationToken ct) => Results.Ok(await faults.ApplyAsync(new FaultSpec { Action = "heal" }, ct)))
            .WithName("HealFaults")
            .WithSummary("Heal every injected fault on every node it can reach")
            .Produces<IReadOnlyList<FaultOutcome>>();
    }

    private static async Task<IResult> TransferLeaderAsync(int shard, HttpContext context, ShardHost host)
    {
        if (shard < 0 || shard >= host.Replicas.Count)
        {
            return Problems.Result(ProblemKind.NotFound, $"there is no shard {shard}; shards are 0..{host.Replicas.Count - 1}");
        }

        var body = await JsonBody.ReadBytesAsync(context, 4096);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        TransferRequest? request;
        try
        {
            request = System.Text.Json.JsonSerializer.Deserialize<TransferRequest>(body.Body!, System.Text.Json.JsonSerializerOptions.Web);
        }
        catch (System.Text.Json.JsonException e)
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"the body must be {{\"to\": <node id>}}: {e.Message}");
        }

        var replica = host.Replicas[shard];
        var status = replica.Status;
        if (request is null || !status.Config.Voters.Contains(request.To))
        {
            return Problems.Result(ProblemKind.InvalidField, $"'to' must be a voter of shard {shard}: one of {string.Join(", ", status.Config.Voters)}", new Dictionary<string, object?> { ["field"] = "to" });
        }

        if (status.Failed)
        {
            return Problems.Result(ProblemKind.NotReady, $"this node's replica of shard {shard} stopped after an error; see the node's log");
        }

        if (status.Role != RaftRole.Leader)
        {
            var leader = host.Topology.Member(status.Leader);
            return Problems.Result(ProblemKind.NotLeader, $"node {host.Options.NodeId} does not lead shard {shard}; send this to its leader", new Dictionary<string, object?> { ["leader"] = status.Leader, ["leaderUrl"] = leader?.HttpUrl });
        }

        await replica.OnLoopAsync(node =>
        {
            node.TransferLeadership(request.To);
            return true;
        }).WaitAsync(TimeSpan.FromSeconds(5), context.RequestAborted);
        return Results.Accepted(value: new { shard, from = host.Options.NodeId, to = request.To });
    }

    private static async Task<IResult> InjectFaultAsync(HttpContext context, FaultInjector faults)
    {
        var body = await JsonBody.ReadBytesAsync(context, 16 * 1024);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var (spec, error) = FaultInjector.Parse(System.Text.Encoding.UTF8.GetString(body.Body!));
        if (spec is null)
        {
            return Problems.Result(ProblemKind.InvalidField, error!);
        }

        return Results.Ok(await faults.ApplyAsync(spec, context.RequestAborted));
    }

    private sealed record TransferRequest(ulong To);
}
