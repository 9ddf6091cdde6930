using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>
/// The data-centre isolation test again, with each node in its own network namespace at its own
/// address and the partition made by iptables in the kernel rather than by the nodes' own fault
/// injection. Skipped, with the reason, where namespaces or iptables are not available (not root).
/// </summary>
public sealed class NamespaceClusterTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task An_iptables_partition_isolates_a_node_that_keeps_redirecting_and_converges_after_the_heal()
    {
        var unavailable = NamespaceNetwork.Unavailable();
        if (unavailable is not null)
        {
            output.WriteLine($"skipped: {unavailable}");
        }

        Skip.If(unavailable is not null, unavailable);
        using var network = new NamespaceNetwork(3);
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4, network: network);
        var old = await cluster.CreateAsync(1, "https://example.com/ns/old");
        await cluster.AssertRedirectsAsync(3, old, "https://example.com/ns/old");

        network.Isolate(3);
        var refused = await cluster.PostCreateAsync(3, "https://example.com/ns/minority");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("urn:shortener:problem:no-quorum", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.Equal("https://example.com/ns/old", await cluster.RedirectAsync(3, old));

        var during = await cluster.CreateAsync(2, "https://example.com/ns/majority");
        await cluster.AssertRedirectsAsync(1, during, "https://example.com/ns/majority");
        Assert.Null(await cluster.RedirectAsync(3, during));

        network.Heal();
        await cluster.AssertRedirectsAsync(3, during, "https://example.com/ns/majority", TimeSpan.FromSeconds(15));
        var after = await cluster.CreateAsync(3, "https://example.com/ns/after");
        foreach (var id in cluster.Ids)
        {
            await cluster.AssertRedirectsAsync(id, after, "https://example.com/ns/after");
        }
    }
}
