using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>Clicks over real node processes: the available path keeps counting through a partition and a kill -9, and every node ends with the exact total.</summary>
public sealed class ClickClusterTests(ITestOutputHelper output)
{
    private const string Human = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0";

    [Fact]
    public async Task A_data_centre_isolated_for_11_seconds_keeps_redirecting_and_counting_and_every_node_reports_the_exact_total_after_the_heal()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var code = await cluster.CreateAsync(1, "https://example.com/counted");
        foreach (var id in cluster.Ids)
        {
            await cluster.AssertRedirectsAsync(id, code, "https://example.com/counted");
        }

        // Redirects on every node the whole time; each 302 a client saw is a click that must count.
        using var stop = new CancellationTokenSource();
        var seen = cluster.Ids.ToDictionary(id => id, _ => 0L);
        var duringPartition = cluster.Ids.ToDictionary(id => id, _ => 0L);
        var partitioned = false;
        var loops = cluster.Ids.Select(id => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (await FollowAsync(cluster.Client(id), code))
                {
                    seen[id]++;
                    if (Volatile.Read(ref partitioned))
                    {
                        duringPartition[id]++;
                    }
                }

                await Task.Delay(10);
            }
        })).ToList();

        await Task.Delay(2_000);
        var fault = await cluster.Client(1).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { "dc3" }, forSeconds = 11 });
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);
        Volatile.Write(ref partitioned, true);
        var cut = Stopwatch.StartNew();

        // While cut off, node 3 cannot write its clicks at QUORUM: they wait in its outbox.
        await Task.Delay(5_000);
        var isolated = await StatsAsync(cluster, 3, code, "one");
        output.WriteLine($"5 s into the partition node 3 counts {isolated?.GetProperty("total").GetInt64()} locally, its clients saw {seen[3]}");
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, 11 - cut.Elapsed.TotalSeconds)));
        Volatile.Write(ref partitioned, false);
        await Task.Delay(2_000);
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        var total = seen.Values.Sum();
        output.WriteLine($"redirects seen: {string.Join(", ", seen.Select(s => $"node {s.Key} {s.Value}"))}; during the partition: {string.Join(", ", duringPartition.Select(s => $"node {s.Key} {s.Value}"))}");
        Assert.All(duringPartition.Values, n => Assert.True(n > 50, "a node stopped redirecting during the partition"));

        var watch = Stopwatch.StartNew();
        foreach (var id in cluster.Ids)
        {
            // consistency=one is this node's own replica (every node holds every link's clicks with N = 3 on 3 nodes).
            // The test's clients send a browser's user agent; the checks that the link redirects
            // (AssertRedirectsAsync) send none, so they count as bots, apart.
            await TestCluster.WaitUntilAsync(
                async () => await StatsAsync(cluster, id, code, "one") is { } s && s.GetProperty("nonBot").GetInt64() == total,
                TimeSpan.FromSeconds(60),
                $"node {id} does not count the {total} redirects (it says {(await StatsAsync(cluster, id, code, "one"))?.GetProperty("nonBot")})");
            // At ALL every replica must answer: right after the heal gossip may still count one down for a moment.
            JsonElement? all = null;
            await TestCluster.WaitUntilAsync(async () => (all = await StatsAsync(cluster, id, code, "all")) is not null, TimeSpan.FromSeconds(20), $"node {id} cannot read at ALL");
            Assert.Equal(total, all!.Value.GetProperty("nonBot").GetInt64());
            Assert.InRange(all.Value.GetProperty("bots").GetInt64(), 3, 30);
        }

        output.WriteLine($"every node counted {total} clicks {watch.ElapsedMilliseconds} ms after the redirects stopped");
        var metrics = await cluster.Client(3).GetStringAsync("/metrics");
        Assert.Contains("shortener_clicks_outbox_depth", metrics);
        Assert.Contains("shortener_clicks_relay_failures", metrics);
    }

    [Fact]
    public async Task Clicks_in_the_outbox_survive_a_kill_9_and_count_once_after_the_restart()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var code = await cluster.CreateAsync(1, "https://example.com/survivor");
        await cluster.AssertRedirectsAsync(3, code, "https://example.com/survivor");

        // Node 3 cut off: its clicks cannot reach a quorum and stay in its outbox (and its own replica).
        var fault = await cluster.Client(1).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { "dc3" }, forSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);
        var redirected = 0;
        for (var i = 0; i < 40; i++)
        {
            redirected += await FollowAsync(cluster.Client(3), code) ? 1 : 0;
        }

        Assert.Equal(40, redirected);
        cluster.Kill(3);
        var heal = await cluster.Client(1).DeleteAsync("/admin/v1/faults");
        Assert.Equal(HttpStatusCode.OK, heal.StatusCode);
        await cluster.RestartAsync(3);

        foreach (var id in cluster.Ids)
        {
            await TestCluster.WaitUntilAsync(
                async () => await StatsAsync(cluster, id, code, "one") is { } s && s.GetProperty("nonBot").GetInt64() == 40,
                TimeSpan.FromSeconds(60),
                $"node {id} does not count the 40 redirects node 3 answered before it was killed (it says {(await StatsAsync(cluster, id, code, "one"))?.GetProperty("nonBot")})");
        }
    }

    private static async Task<bool> FollowAsync(HttpClient client, string code)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/" + code);
            request.Headers.TryAddWithoutValidation("User-Agent", Human);
            using var response = await client.SendAsync(request);
            return response.StatusCode == HttpStatusCode.Found;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<JsonElement?> StatsAsync(TestCluster cluster, ulong id, string code, string consistency)
    {
        try
        {
            using var response = await cluster.Client(id).GetAsync($"/api/v1/links/{code}/stats?consistency={consistency}");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
