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

        var (code, output, error) = await RunAsync("cluster", "status", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("3 nodes in 3 data centres, 4 shards", output);
        Assert.Equal(4, output.Split('\n').Count(l => l.Length > 0 && char.IsDigit(l[0]) && l.Contains("1,2,3", StringComparison.Ordinal)));

        var leader = await cluster.LeaderOfAsync(0);
        var target = cluster.Ids.First(id => id != leader);
        (code, output, error) = await RunAsync("cluster", "transfer-leader", "--shard", "0", "--to", target.ToString(), "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains($"node {target} leads shard 0", output);
        Assert.Equal(target, await cluster.LeaderOfAsync(0));

        (code, output, error) = await RunAsync("fault", "partition", "--isolate", "dc3", "--for", "30s", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Contains("node 3: drop to [1,2]; drop from [1,2]", output);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await cluster.PostCreateAsync(3, "https://example.com/cli/cut")).StatusCode);

        (code, output, error) = await RunAsync("fault", "heal", "--server", server, "--api-key", key);
        Assert.True(code == 0, error);
        Assert.Equal(3, output.Split('\n').Count(l => l.EndsWith(": none", StringComparison.Ordinal)));
        await cluster.CreateAsync(3, "https://example.com/cli/healed");

        (code, _, error) = await RunAsync("fault", "partition", "--isolate", "dc3", "--for", "soon", "--server", server, "--api-key", key);
        Assert.Equal(2, code);
        Assert.Contains("--for must be a duration", error);
        (code, _, error) = await RunAsync("fault", "partition", "--server", server, "--api-key", key);
        Assert.Equal(1, code);
        Assert.Contains("needs 'isolate'", error);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ShortenerCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
