using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>
/// The Raft log is the durable truth and the node's database commits once per round, after which
/// the node answers: an acknowledged create survives kill -9 of any node at any moment, all of
/// them at once included, and the node that answered 201 serves the link at once.
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Acknowledged_creates_survive_a_kill_loop_and_a_201_is_readable_at_once_on_the_node_that_sent_it()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 8);
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        var ids = cluster.Ids.ToArray();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var staleReads = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var random = new Random(writer);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var via = ids[random.Next(ids.Length)];
                var url = $"https://example.com/durable/{writer}/{n}";
                try
                {
                    using var response = await cluster.PostCreateAsync(via, url);
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        continue; // 503 while a node is down or a leader moves: not acknowledged
                    }

                    var code = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
                    acknowledged[code] = url;

                    // The node that answered has committed it: a local read finds it.
                    using var read = await cluster.Client(via).GetAsync($"/api/v1/links/{code}?consistency=local");
                    if (read.StatusCode != HttpStatusCode.OK)
                    {
                        staleReads.Add($"{code} via node {via}: {(int)read.StatusCode}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // The node was killed mid-request: the outcome is unknown, nothing is claimed.
                }
            }
        })).ToArray();

        // Kill -9 one node at a random moment, again and again, then the whole cluster at once.
        var random = new Random(11);
        for (var round = 0; round < 6; round++)
        {
            await Task.Delay(700 + random.Next(900));
            var victim = ids[random.Next(ids.Length)];
            cluster.Kill(victim);
            output.WriteLine($"round {round}: killed node {victim} with {acknowledged.Count} creates acknowledged");
            await Task.Delay(300 + random.Next(700));
            await cluster.RestartAsync(victim);
        }

        await Task.Delay(1000);
        foreach (var id in ids)
        {
            cluster.Kill(id);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
        output.WriteLine($"all nodes killed with {acknowledged.Count} creates acknowledged");
        foreach (var id in ids)
        {
            cluster.Start(id);
        }

        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(60));
        Assert.True(acknowledged.Count >= 20, $"only {acknowledged.Count} creates were acknowledged: the test did not load the cluster");
        Assert.Empty(staleReads);
        foreach (var (code, url) in acknowledged)
        {
            foreach (var id in ids)
            {
                await TestCluster.WaitUntilAsync(
                    async () =>
                    {
                        using var read = await cluster.Client(id).GetAsync($"/api/v1/links/{code}");
                        if (read.StatusCode == HttpStatusCode.ServiceUnavailable)
                        {
                            return false;
                        }

                        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                        Assert.Equal(url, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString());
                        return true;
                    },
                    TimeSpan.FromSeconds(20),
                    $"node {id} kept answering 503 for {code}");
            }
        }
    }
}
