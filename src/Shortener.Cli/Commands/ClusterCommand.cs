using System.CommandLine;
using System.Text.Json;
using Shortener.Cli.Client;
using Shortener.Node.Api;

namespace Shortener.Cli.Commands;

/// <summary>`shortener cluster …`: the cluster's state as every node sees it, leadership transfer, and adding and removing nodes.</summary>
public static class ClusterCommand
{
    private static readonly ServerConnection Connection = new();
    private static readonly Option<bool> AsJson = new("--json") { Description = "Print every node's JSON view instead of tables", Recursive = true };

    public static Command Create()
    {
        var cluster = new Command("cluster", "Inspect the cluster, move shard leadership, add and remove nodes") { Connection.Server, Connection.ApiKey, AsJson };
        cluster.Subcommands.Add(StatusCommand());
        cluster.Subcommands.Add(TransferCommand());
        cluster.Subcommands.Add(AddNodeCommand());
        cluster.Subcommands.Add(RemoveNodeCommand());
        return cluster;
    }

    private static Command AddNodeCommand()
    {
        var id = new Option<ulong?>("--id") { Description = "The new node's id (default: the next free one; ids are never reused)" };
        var dc = new Option<string>("--dc") { Description = "The new node's data centre", Required = true };
        var peerUrl = new Option<string>("--peer-url") { Description = "Where peers will reach the new node (gRPC over HTTP/2), e.g. http://127.0.0.1:9083", Required = true };
        var httpUrl = new Option<string>("--http-url") { Description = "Where clients will reach the new node, e.g. http://127.0.0.1:8083", Required = true };
        var command = new Command("add-node", "Add a node to the member list; then start it with the `serve --join` line this prints. It joins every shard as a learner and becomes a voter where the placement puts one once it has caught up") { id, dc, peerUrl, httpUrl };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var body = new Dictionary<string, object?>
            {
                ["id"] = parse.GetValue(id),
                ["dc"] = parse.GetValue(dc),
                ["peerUrl"] = parse.GetValue(peerUrl),
                ["httpUrl"] = parse.GetValue(httpUrl),
            };
            var added = await client.PostJsonAsync<MembershipResponse>("/admin/v1/cluster/nodes", body, ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"node {added.Id} is a member (member list version {added.MembersVersion}); start it with:");
            await output.WriteLineAsync($"  {added.Join}");
        }));
        return command;
    }

    private static Command RemoveNodeCommand()
    {
        var id = new Argument<ulong>("id") { Description = "The node to remove" };
        var noWait = new Option<bool>("--no-wait") { Description = "Only mark it leaving; its shards move on their own (run the command again to finish)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for its shards to move before giving up (the move goes on; run the command again)", DefaultValueFactory = _ => 300 };
        var command = new Command("remove-node", "Remove a node: its shards move to the other nodes (voters replaced first), then it leaves the member list and can be stopped") { id, noWait, timeout };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var target = parse.GetValue(id);
            var view = await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", ct) ?? throw new ApiProblem(0, "empty", "the node sent no status");
            var via = client;
            ShortenerApiClient? other = null;
            if (view.Node == target && view.Members.FirstOrDefault(m => m.Id != target && !m.Leaving) is { } stays)
            {
                // The node being removed will not hear the end of it: ask one that stays.
                other = Connection.Client(new Uri(stays.HttpUrl), parse);
                via = other;
            }

            using (other)
            {
                var deadline = DateTime.UtcNow.AddSeconds(parse.GetValue(timeout));
                var lastCount = -1;
                while (true)
                {
                    var state = await via.DeleteJsonAsync<MembershipResponse>($"/admin/v1/cluster/nodes/{target}", ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
                    if (state.State == "removed")
                    {
                        await output.WriteLineAsync($"node {target} is removed (member list version {state.MembersVersion}); no shard names it, so it can be stopped");
                        return;
                    }

                    if (state.Shards.Count != lastCount)
                    {
                        await output.WriteLineAsync($"node {target} is leaving: {state.Shards.Count} shard(s) still name it ({string.Join(',', state.Shards)})");
                        lastCount = state.Shards.Count;
                    }

                    if (parse.GetValue(noWait))
                    {
                        return;
                    }

                    if (DateTime.UtcNow > deadline)
                    {
                        throw new ApiProblem(0, "timeout", $"node {target}'s shards have not all moved yet ({string.Join(',', state.Shards)} left); the move goes on: run the command again to follow it. A shard waits for its replacement voter to catch up: is every added node running (shortener cluster status)?");
                    }

                    await Task.Delay(1000, ct);
                }
            }
        }));
        return command;
    }

    private static Command StatusCommand()
    {
        var command = new Command("status", "Nodes, data centres, and per shard: leader, term, commit and applied indexes on every node, and lag");
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var first = await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", ct) ?? throw new ApiProblem(0, "empty", "the node sent no status");
            var views = await ViewsAsync(parse, first, ct);
            if (parse.GetValue(AsJson))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(views.Values.Where(v => v.View is not null).Select(v => v.View), new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
                return;
            }

            await output.WriteLineAsync($"{first.Members.Count} nodes in {first.Members.Select(m => m.Dc).Distinct().Count()} data centres, {first.Shards.Count} shards, {first.ReplicationFactor} voting replicas each");
            await output.WriteLineAsync();
            await output.WriteLineAsync($"{"NODE",-5} {"DC",-6} {"HTTP",-28} {"LEADS",-6} {"GOSSIP",-20} STATE");
            foreach (var member in first.Members)
            {
                var (view, error) = views[member.Id];
                var state = (view is null ? $"unreachable: {error}" : view.Faults == "none" ? "up" : $"up, faults: {view.Faults}") + (member.Leaving ? ", leaving" : string.Empty);
                var leads = view?.Shards.Count(s => s.Role == "leader").ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";
                // What the node this command talks to hears through gossip (phi from its messages).
                var said = first.Gossip?.FirstOrDefault(g => g.Id == member.Id) is { } g
                    ? (g.Id == first.Node ? g.Status : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{g.Status} phi {g.Phi:F1}"))
                    : "-";
                await output.WriteLineAsync($"{member.Id,-5} {member.Dc,-6} {member.HttpUrl,-28} {leads,-6} {said,-20} {state}");
            }

            await output.WriteLineAsync();
            var ids = first.Members.Select(m => m.Id).ToList();
            var perNode = string.Join('/', ids.Select(id => $"n{id}"));
            await output.WriteLineAsync($"{"SHARD",-6} {"LEADER",-7} {"TERM",-6} {"COMMIT",-8} {"APPLIED " + perNode,-30} {"LAG " + perNode,-22} VOTERS");
            for (var shard = 0; shard < first.Shards.Count; shard++)
            {
                var leaderView = views.Values.Select(v => v.View?.Shards[shard]).FirstOrDefault(s => s?.Role == "leader");
                var applied = string.Join('/', ids.Select(id => views[id].View?.Shards[shard].Applied.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"));
                var lag = leaderView?.Lag is { } l ? string.Join('/', ids.Select(id => l.TryGetValue(id.ToString(System.Globalization.CultureInfo.InvariantCulture), out var behind) ? behind.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")) : "-";
                var leader = leaderView is null ? "none" : views.First(v => v.Value.View?.Shards[shard].Role == "leader").Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await output.WriteLineAsync($"{shard,-6} {leader,-7} {leaderView?.Term.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",-6} {leaderView?.Commit.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",-8} {applied,-30} {lag,-22} {string.Join(',', first.Shards[shard].Voters)}");
            }
        }));
        return command;
    }

    private static Command TransferCommand()
    {
        var shard = new Option<int>("--shard") { Description = "The shard whose leadership moves", Required = true };
        var to = new Option<ulong>("--to") { Description = "The voter to hand it to", Required = true };
        var command = new Command("transfer-leader", "Hand a shard's leadership to another of its voters and wait until it leads") { shard, to };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var (s, target) = (parse.GetValue(shard), parse.GetValue(to));
            var first = await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", ct) ?? throw new ApiProblem(0, "empty", "the node sent no status");
            if (s < 0 || s >= first.Shards.Count)
            {
                throw new ApiProblem(2, "usage", $"--shard must be 0..{first.Shards.Count - 1}");
            }

            var leaderId = first.Shards[s].Leader;
            var leader = first.Members.FirstOrDefault(m => m.Id == leaderId) ?? throw new ApiProblem(0, "no-leader", $"shard {s} has no leader now; try again in a moment");
            if (leaderId == target)
            {
                await output.WriteLineAsync($"node {target} already leads shard {s}");
                return;
            }

            using (var leaderClient = Connection.Client(new Uri(leader.HttpUrl), parse))
            {
                await leaderClient.PostJsonAsync<JsonElement>($"/admin/v1/shards/{s}/transfer-leader", new { to = target }, ct);
            }

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                var view = await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", ct);
                if (view!.Shards[s].Leader == target)
                {
                    await output.WriteLineAsync($"node {target} leads shard {s} (term {view.Shards[s].Term})");
                    return;
                }

                await Task.Delay(100, ct);
            }

            throw new ApiProblem(0, "timeout", $"node {target} did not take over shard {s} within 10 s (is it caught up and reachable?)");
        }));
        return command;
    }

    private static async Task<Dictionary<ulong, (ClusterView? View, string? Error)>> ViewsAsync(ParseResult parse, ClusterView first, CancellationToken ct)
    {
        var tasks = first.Members.Select(async member =>
        {
            if (member.Id == first.Node)
            {
                return (member.Id, (View: (ClusterView?)first, Error: (string?)null));
            }

            using var client = Connection.Client(new Uri(member.HttpUrl), parse, attempts: 1);
            try
            {
                return (member.Id, (await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", ct), null));
            }
            catch (ApiProblem e)
            {
                return (member.Id, (null, e.Message));
            }
        });
        return (await Task.WhenAll(tasks)).ToDictionary(t => t.Id, t => t.Item2);
    }
}
