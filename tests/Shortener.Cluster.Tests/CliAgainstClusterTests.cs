using System.Net;
using Shortener.Cli;

namespace Shortener.Cluster.Tests;

/// <summary>The operator commands (`cluster status`, `cluster transfer-leader`, `fault …`) against a running cluster.</summary>
public sealed class CliAgainstClusterTests
{
    [Fact]
    public async Task Status_transfer_and_faults_work_from_the_command_line()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4);
        var server = cluster.Topology.Members[0].HttpUrl;
        var key = cluster.Layout.ApiKey;

        // A node probed before a later one's peer port is up may be suspect for a few seconds.
        await TestCluster.WaitUntilAsync(
            async () => (await cluster.ViewAsync(1))?.Gossip is { Count: 3 } gossip && gossip.All(g => g.Status == "alive"),
            TimeSpan.FromSeconds(30),
            "node 1's gossip never saw all three nodes alive");
        var (code, output, error) = await RunAsync("cluster", "status", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("3 nodes in 3 data centres, 4 shards", output);
        Assert.Equal(4, output.Split('\n').Count(l => l.Length > 0 && char.IsDigit(l[0]) && l.Contains("1,2,3", StringComparison.Ordinal)));
        // The GOSSIP column: what node 1 (the one asked) hears of each node, with phi for the others.
        // Under load a node can be briefly suspect (a late ack) before it refutes; either is an answer.
        // Node 3's own view may also time out under load (LEADS "-", STATE unreachable): only its
        // GOSSIP column, which comes from node 1, is checked.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"\n1\s+dc1\s+\S+\s+\d+\s+alive\s+up"), output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"\n3\s+dc3\s+\S+\s+\S+\s+(alive|suspect) phi \d+\.\d"), output);

        var leader = await cluster.RequireLeaderOfAsync(0);
        var target = cluster.Ids.First(id => id != leader);
        (code, output, error) = await RunAsync("cluster", "transfer-leader", "--shard", "0", "--to", target.ToString(), "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains($"node {target} leads shard 0", output);
        Assert.Equal(target, await cluster.LeaderOfAsync(0));

        (code, output, error) = await RunAsync("fault", "partition", "--isolate", "dc3", "--for", "30s", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Matches(@"node 3: partition drop to \[1,2\], drop from \[1,2\] \((30\.0|29\.\d) s left\)", output);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await cluster.PostCreateAsync(3, "https://example.com/cli/cut")).StatusCode);

        (code, output, error) = await RunAsync("fault", "heal", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Equal(3, output.Split('\n').Count(l => l.EndsWith(": none", StringComparison.Ordinal)));
        await cluster.CreateEventuallyAsync(3, "https://example.com/cli/healed");

        (code, _, error) = await RunAsync("fault", "partition", "--isolate", "dc3", "--for", "soon", "--server", server, "--api-key", key);
        Assert.Equal(2, code);
        Assert.Contains("--for must be a duration", error);
        (code, _, error) = await RunAsync("fault", "partition", "--server", server, "--api-key", key);
        Assert.Equal(1, code);
        Assert.Contains("needs 'isolate'", error);
    }

    [Fact]
    public async Task Add_node_prints_how_to_start_it_and_remove_node_waits_until_the_node_is_gone()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4);
        var key = cluster.Layout.ApiKey;
        var server = cluster.Topology.Members[2].HttpUrl;

        var (code, output, error) = await RunAsync("cluster", "add-node", "--dc", "dc2", "--peer-url", "https://127.0.0.1:19999", "--http-url", "http://127.0.0.1:18999", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("node 4 is a member (member list version 1)", output);
        Assert.Contains("--join " + cluster.Topology.Members[2].PeerUrl, output);

        // The same request again (a retry whose first answer was lost) finds that member, not a new one.
        (code, output, error) = await RunAsync("cluster", "add-node", "--dc", "dc2", "--peer-url", "https://127.0.0.1:19999", "--http-url", "http://127.0.0.1:18999", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("node 4 is a member (member list version 1)", output);
        (code, _, error) = await RunAsync("cluster", "add-node", "--id", "2", "--dc", "dc2", "--peer-url", "https://127.0.0.1:19998", "--http-url", "http://127.0.0.1:18998", "--server", server, "--api-key", key);
        Assert.Equal(1, code);
        Assert.Contains("already a member", error);

        // Node 4 never started: removing it only drops learners nobody heard from. Then node 3, the
        // node the command talks to, which makes it ask another.
        foreach (var id in new[] { "4", "3" })
        {
            (code, output, error) = await RunAsync("cluster", "remove-node", id, "--timeout", "60", "--server", server, "--api-key", key);
            Assert.True(code == 0, error);
            Assert.Contains($"node {id} is removed", output);
        }

        (code, output, error) = await RunAsync("cluster", "status", "--server", cluster.Topology.Members[0].HttpUrl, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("2 nodes in 2 data centres, 4 shards", output);
        Assert.Equal(4, output.Split('\n').Count(l => l.Length > 0 && char.IsDigit(l[0]) && l.TrimEnd().EndsWith("1,2", StringComparison.Ordinal)));
        await cluster.CreateAsync(1, "https://example.com/cli/two-left");

        (code, _, error) = await RunAsync("cluster", "remove-node", "9", "--server", cluster.Topology.Members[0].HttpUrl, "--api-key", key);
        Assert.Equal(1, code);
        Assert.Contains("not a member", error);
    }

    [Fact]
    public async Task A_key_made_through_one_node_works_on_every_node_until_revoked_through_another()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4);
        var admin = cluster.Layout.ApiKey;
        var first = cluster.Topology.Members[0].HttpUrl;
        var third = cluster.Topology.Members[2].HttpUrl;

        var (code, output, error) = await RunAsync("keys", "create", "--role", "links", "--name", "campaign tool", "--server", first, "--api-key", admin);
        Assert.True(code == 0, error);
        var key = output.TrimEnd().Split('\n')[^1];
        Assert.Matches("^sk_[0-9a-f]{48}$", key);
        var id = System.Text.RegularExpressions.Regex.Match(output, @"created (key-[0-9a-f]+) \(links\)").Groups[1].Value;

        // Every node applies the key list from shard 0; the key works on each once it has.
        foreach (var node in cluster.Ids)
        {
            using var client = KeyClient(cluster, node, key);
            await TestCluster.WaitUntilAsync(
                async () => (await client.PostAsync("/api/v1/links", new StringContent($$"""{"url":"https://example.com/keys/{{node}}"}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode == HttpStatusCode.Created,
                TimeSpan.FromSeconds(20),
                $"the new key never worked on node {node}");
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/admin/v1/cluster")).StatusCode);
        }

        (code, output, error) = await RunAsync("keys", "list", "--server", third, "--api-key", admin);
        Assert.True(code == 0, error);
        Assert.Matches(id + @"\s+links\s+-\s+\S+ \S+\s+live\s+campaign tool", output);
        Assert.DoesNotContain(key, output);

        (code, output, error) = await RunAsync("keys", "revoke", id, "--server", third, "--api-key", admin);
        Assert.True(code == 0, error);
        Assert.Contains($"revoked {id}", output);
        foreach (var node in cluster.Ids)
        {
            using var client = KeyClient(cluster, node, key);
            await TestCluster.WaitUntilAsync(
                async () => (await client.GetAsync("/api/v1/links")).StatusCode == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(20),
                $"node {node} still took the revoked key");
        }

        // An unknown role is refused before anything is sent; an unknown id is named.
        (code, _, error) = await RunAsync("keys", "create", "--role", "root", "--name", "x", "--server", first, "--api-key", admin);
        Assert.NotEqual(0, code);
        Assert.Contains("root", error);
        (code, _, error) = await RunAsync("keys", "revoke", "key-none", "--server", first, "--api-key", admin);
        Assert.Equal(1, code);
        Assert.Contains("no key has the id key-none", error);
    }

    private static HttpClient KeyClient(TestCluster cluster, ulong node, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(cluster.Topology.Member(node)!.HttpUrl) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ShortenerCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
