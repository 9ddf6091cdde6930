using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Core.Raft;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Observability;
using Shortener.Node.Shards;
using Shortener.Core.Cluster;

namespace Shortener.Node.Api;

/// <summary>
/// /admin/v1: the cluster as this node sees it, members, leadership transfer, fault injection and
/// (<see cref="KeyEndpoints"/>) the API keys. Every route needs an admin key.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1").WithTags("admin").RequireAuthorization(Security.ApiKeyPolicies.Admin);

        admin.MapGet("/cluster", (ShardHost shards, MemberList members, NetworkFaults faults, GossipDriver gossip) => Results.Ok(ClusterView.Of(shards, members, faults, gossip)))
            .WithName("ClusterStatus")
            .WithSummary("The cluster's members and this node's replica of every shard (role, term, leader, commit, applied, lag)")
            .Produces<ClusterView>();

        admin.MapGet("/journal", Journal)
            .WithName("Journal")
            .WithSummary("What this node did (role changes per shard, faults, refused writes, leadership transfers, click repair), after a sequence number; bounded")
            .Produces<JournalPage>()
            .ProducesProblem(400);

        admin.MapPost("/cluster/nodes", AddNodeAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("AddNode")
            .WithSummary("Add a member (id, dc, peerUrl, httpUrl); start it with `serve --join`: it joins every shard as a learner and is promoted where the placement makes it a voter once caught up")
            .Accepts<AddNodeRequest>("application/json")
            .Produces<MembershipResponse>(StatusCodes.Status201Created)
            .Produces<MembershipResponse>()
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(422).ProducesProblem(503);

        admin.MapDelete("/cluster/nodes/{id}", RemoveNodeAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("RemoveNode")
            .WithSummary("Remove a member: 202 while its shards move to the others (repeat the call to follow), 200 once no shard names it and it is gone from the member list")
            .Produces<MembershipResponse>()
            .Produces<MembershipResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);

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
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);

        admin.MapDelete("/faults", async (FaultInjector faults, IOptions<NodeOptions> options, CancellationToken ct) =>
                FaultsOff(options) ?? Results.Ok(await faults.ApplyAsync(new FaultSpec { Action = "heal" }, ct)))
            .WithName("HealFaults")
            .WithSummary("Heal every injected fault on every node it can reach")
            .Produces<IReadOnlyList<FaultOutcome>>();

        KeyEndpoints.Map(admin);
        SinkEndpoints.Map(admin);
    }

    private static IResult Journal(HttpContext context, NodeJournal journal)
    {
        var query = context.Request.Query;
        long after = 0;
        var limit = 1000;
        if ((query.TryGetValue("after", out var afterText) && (!long.TryParse(afterText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out after)))
            || (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000)))
        {
            return Problems.Result(ProblemKind.MalformedRequest, "after is a sequence number (0 for the start) and limit a whole number from 1 to 10000");
        }

        var entries = journal.After(after, limit);
        return Results.Ok(new JournalPage(journal.Node, entries, entries.Count > 0 ? entries[^1].Seq : after, journal.Dropped));
    }

    private static async Task<IResult> TransferLeaderAsync(int shard, HttpContext context, ShardHost shards, MemberList members)
    {
        if (shard < 0 || shard >= shards.Replicas.Count)
        {
            return Problems.Result(ProblemKind.NotFound, $"there is no shard {shard}; shards are 0..{shards.Replicas.Count - 1}");
        }

        var (request, problem) = await ReadSmallAsync<TransferRequest>(context, "{\"to\": <node id>}");
        if (problem is not null)
        {
            return problem;
        }

        var replica = shards.Replicas[shard];
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
            var leader = members.Topology.Member(status.Leader);
            return Problems.Result(ProblemKind.NotLeader, $"node {members.Self} does not lead shard {shard}; send this to its leader", new Dictionary<string, object?> { ["leader"] = status.Leader, ["leaderUrl"] = leader?.HttpUrl });
        }

        await replica.OnLoopAsync(node =>
        {
            node.TransferLeadership(request.To);
            return true;
        }).WaitAsync(TimeSpan.FromSeconds(5), context.RequestAborted);
        context.RequestServices.GetRequiredService<NodeJournal>().Record(JournalKind.LeadershipTransfer, $"to node {request.To}", shard, status.Term);
        return Results.Accepted(value: new { shard, from = members.Self, to = request.To });
    }

    /// <summary>A 404 when this node takes no injected faults (it was not started with --allow-faults), else null.</summary>
    private static IResult? FaultsOff(IOptions<NodeOptions> options) => options.Value.AllowFaults
        ? null
        : Problems.Result(ProblemKind.NotFound, "fault injection is off on this node: start it with --allow-faults (shortener up does) to test with faults");

    private static async Task<IResult> InjectFaultAsync(HttpContext context, FaultInjector faults, IOptions<NodeOptions> options)
    {
        if (FaultsOff(options) is { } off)
        {
            return off;
        }

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

    private static async Task<IResult> AddNodeAsync(HttpContext context, MemberList members, MembershipService membership, Peers.PeerSecurity security)
    {
        var (request, problem) = await ReadSmallAsync<AddNodeRequest>(context, "{\"id\": <new id, optional>, \"dc\": ..., \"peerUrl\": ..., \"httpUrl\": ...}");
        if (problem is not null)
        {
            return problem;
        }

        if (request is null || string.IsNullOrWhiteSpace(request.Dc) || string.IsNullOrWhiteSpace(request.PeerUrl) || string.IsNullOrWhiteSpace(request.HttpUrl))
        {
            return Problems.Result(ProblemKind.InvalidField, "dc, peerUrl and httpUrl are required");
        }

        // Every member dials every other: a peer URL this node could not dial would cut it off from the new node.
        if (ClusterTopology.IsHttpUrl(request.PeerUrl.Trim()) && security.Refusal(request.PeerUrl.Trim()) is { } refusal)
        {
            return Problems.Result(ProblemKind.InvalidField, refusal);
        }

        var canGrow = members.CanGrow;
        ClusterMember? added = null;
        var changed = false;
        var result = await ChangeAsync(context, membership, topology =>
        {
            var asked = new ClusterMember(request.Id ?? topology.NextId, request.Dc.Trim(), request.PeerUrl.Trim(), request.HttpUrl.Trim());

            // A retry without an id (its first try may have applied) finds the member it added.
            added = request.Id is null
                ? topology.Members.FirstOrDefault(m => !m.Leaving && m == asked with { Id = m.Id }) ?? asked
                : asked;
            var next = MembershipChanges.Add(topology, added, canGrow);
            changed = next is not null;
            return next;
        }, topology =>
        {
            var seed = topology.Member(members.Self) is { Leaving: false } self ? self : topology.Members.First(m => m.Id != added!.Id && !m.Leaving);
            var tls = added!.PeerUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
                ? " --tls-cert NODE.pem --tls-key NODE-key.pem --tls-ca CA.pem"
                : " --plaintext-peers";
            var join = $"SHORTENER_CLUSTER_SECRET=... SHORTENER_API_KEY=... shortener serve --id {added.Id} --dc {added.Dc} --peer-url {added.PeerUrl} --urls {added.HttpUrl} --data DIR --join {seed.PeerUrl}{tls}";
            var response = new MembershipResponse(added.Id, "member", topology.Version, [], join);
            return changed ? Results.Created($"/admin/v1/cluster", response) : Results.Ok(response);
        });
        return result!;
    }

    private static async Task<IResult> RemoveNodeAsync(string id, HttpContext context, MemberList members, MembershipService membership) =>
        ulong.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var node) && node > 0
            ? await RemoveMemberAsync(node, context, members, membership)
            : Problems.Result(ProblemKind.MalformedRequest, $"'{id}' is not a node id: node ids are whole numbers from 1");

    private static async Task<IResult> RemoveMemberAsync(ulong id, HttpContext context, MemberList members, MembershipService membership)
    {
        var leaving = await ChangeAsync(context, membership, topology => MembershipChanges.Leave(topology, id), _ => null);
        if (leaving is not null)
        {
            return leaving;
        }

        var topology = members.Topology;
        if (topology.Member(id) is not null)
        {
            var listing = await membership.ShardsListingAsync(id, context.RequestAborted);
            if (listing.Count > 0)
            {
                return Results.Accepted(value: new MembershipResponse(id, "leaving", topology.Version, listing, null));
            }

            return (await ChangeAsync(context, membership, t => MembershipChanges.Drop(t, id), t => Results.Ok(new MembershipResponse(id, "removed", t.Version, [], null))))!;
        }

        return Results.Ok(new MembershipResponse(id, "removed", topology.Version, [], null));
    }

    /// <summary>Runs a member-list change and answers its refusals as problems; <paramref name="answer"/> makes the success answer (null: carry on).</summary>
    private static async Task<IResult?> ChangeAsync(HttpContext context, MembershipService membership, Func<Core.Cluster.ClusterTopology, Core.Cluster.ClusterMembership?> change, Func<Core.Cluster.ClusterTopology, IResult?> answer)
    {
        try
        {
            return answer(await membership.ChangeMembersAsync(change, context.RequestAborted));
        }
        catch (MembershipRefusedException e)
        {
            return Problems.Result(
                e.Refusal switch
                {
                    MembershipRefusal.NotFound => ProblemKind.NoSuchMember,
                    MembershipRefusal.Conflict => ProblemKind.MembershipConflict,
                    _ => ProblemKind.InvalidField,
                },
                e.Message);
        }
    }

    /// <summary>Reads a small JSON body (up to 4 KiB) as <typeparamref name="T"/>, or the problem to answer; <paramref name="shape"/> shows what was expected.</summary>
    internal static async Task<(T? Value, IResult? Problem)> ReadSmallAsync<T>(HttpContext context, string shape)
    {
        var body = await JsonBody.ReadBytesAsync(context, 4096);
        if (body.Problem is not null)
        {
            return (default, body.Problem);
        }

        try
        {
            return (System.Text.Json.JsonSerializer.Deserialize<T>(body.Body!, JsonBody.Strict), null);
        }
        catch (System.Text.Json.JsonException e)
        {
            return (default, Problems.Result(ProblemKind.MalformedRequest, $"the body must be {shape}: {JsonBody.Describe(e)}"));
        }
    }

    private sealed record TransferRequest(ulong To);
}
