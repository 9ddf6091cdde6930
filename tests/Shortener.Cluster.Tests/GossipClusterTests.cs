using System.Net.Http.Json;

namespace Shortener.Cluster.Tests;

/// <summary>Gossip membership between real node processes: detection of a crash, a restart's refutation, a partition and its heal, a pause.</summary>
public class GossipClusterTests
{
    private static async Task<Dictionary<ulong, string>> StatusesAsync(TestCluster cluster, ulong seenBy)
    {
        try
        {
            var view = await cluster.ViewAsync(seenBy);
            return view?.Gossip?.ToDictionary(g => g.Id, g => g.Status) ?? [];
        }
        catch (HttpRequestException)
        {
            return [];
        }
    }

    private static Task WaitForAsync(TestCluster cluster, IEnumerable<ulong> observers, ulong subject, string status, TimeSpan timeout) =>
        TestCluster.WaitUntilAsync(
            async () =>
            {
                foreach (var observer in observers)
                {
                    if ((await StatusesAsync(cluster, observer)).GetValueOrDefault(subject) != status)
                    {
                        return false;
                    }
                }

                return true;
            },
            timeout,
            $"nodes {string.Join(",", observers)} did not all see node {subject} {status}");

    [Fact]
    public async Task A_crash_is_detected_a_restart_refutes_it_and_a_partition_heals()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 2);
        foreach (var id in cluster.Ids)
        {
            await WaitForAsync(cluster, cluster.Ids, id, "alive", TimeSpan.FromSeconds(15));
        }

        // Every node hears from every other directly before the kill: "alive" can come second hand
        // (gossip), and a node never heard from has no arrival history, so phi 0. With the probe
        // target taken round robin over a shuffled list, two probe intervals (1 s each) cover all.
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        // kill -9: suspected, then dead, on both others; phi of the silent node climbs past 8.
        cluster.Kill(3);
        await WaitForAsync(cluster, [1, 2], 3, "dead", TimeSpan.FromSeconds(30));
        // Node 1 may hear "dead" from node 2 before its own phi has crossed 8 (the SWIM timeout and
        // phi are separate clocks), but phi of a silent node keeps climbing: it must pass 8 soon.
        await TestCluster.WaitUntilAsync(
            async () => (await cluster.ViewAsync(1))?.Gossip?.SingleOrDefault(g => g.Id == 3)?.Phi > 8,
            TimeSpan.FromSeconds(10),
            "phi of the dead node 3 on node 1 did not pass 8");
        var metrics = await cluster.Client(1).GetStringAsync("/metrics");
        Assert.Contains("shortener_gossip_members{otel_scope_name=\"Shortener\",status=\"dead\"} 1", metrics);
        await TestCluster.WaitForLogAsync(cluster.Process(1).LogPath, "Gossip: node 3 (dc3) is Dead (was Suspect)");

        // The restarted process starts at incarnation 0, hears it was declared dead, and outbids that.
        await cluster.RestartAsync(3);
        await WaitForAsync(cluster, cluster.Ids, 3, "alive", TimeSpan.FromSeconds(30));
        Assert.True((await cluster.RequireViewAsync(1)).Gossip!.Single(g => g.Id == 3).Incarnation > 0);

        // Cut dc3 off both ways: each side declares the other dead; after the heal all are alive.
        var cut = await cluster.Client(1).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { "dc3" } });
        Assert.Equal(System.Net.HttpStatusCode.OK, cut.StatusCode);
        await WaitForAsync(cluster, [1, 2], 3, "dead", TimeSpan.FromSeconds(30));
        // Node 3 alone suspects node 1: nobody can confirm it, so its suspicion runs the longest
        // Lifeguard timeout (6 x 4 s of gossip ticks), which dropped ticks on a loaded machine stretch.
        await WaitForAsync(cluster, [3], 1, "dead", TimeSpan.FromSeconds(60));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await cluster.Client(1).DeleteAsync("/admin/v1/faults")).StatusCode);
        foreach (var id in cluster.Ids)
        {
            await WaitForAsync(cluster, cluster.Ids, id, "alive", TimeSpan.FromSeconds(30));
        }

        // A node paused by the fault API neither probes nor answers: the others declare it dead;
        // when the pause runs out it refutes and is alive again.
        var pause = await cluster.Client(2).PostAsJsonAsync("/admin/v1/faults", new { action = "pause", scope = "node", forSeconds = 30 });
        Assert.Equal(System.Net.HttpStatusCode.OK, pause.StatusCode);
        await WaitForAsync(cluster, [1, 3], 2, "dead", TimeSpan.FromSeconds(25));
        await WaitForAsync(cluster, [1, 3], 2, "alive", TimeSpan.FromSeconds(60));
    }
}
