using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Node.Links;
using Shortener.Node.Security;

namespace Shortener.Node.Tests.Cluster;

/// <summary>Without a quorum, creates are answered 503 within the request timeout, even when many queue for the same shard's code block.</summary>
public sealed class NoQuorumDeadlineTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
    {
        ["Shortener:Cluster:RequestTimeoutMs"] = "1000",
        ["Shortener:RateLimits:PerKeyPerSecond"] = "0",
        ["Shortener:RateLimits:PerIpPerSecond"] = "0",
    });

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Generated_creates_queued_for_one_shard_each_get_503_within_one_timeout()
    {
        // Keys that all pick the same shard, so the creates queue for that shard's code block.
        var router = _node.Services.GetRequiredService<LinkService>().Shards.Router;
        var scope = _node.Services.GetRequiredService<ApiKeyRegistry>().Identify(TestNode.Key)!.Id;
        var keys = Enumerable.Range(0, 500).Select(i => $"key-{i}").Where(k => router.ShardOfIdempotencyKey(scope, k) == router.ShardOfIdempotencyKey(scope, "key-0")).Take(4).ToList();
        Assert.Equal(4, keys.Count);

        var paused = await _node.Client.PostAsJsonAsync("/admin/v1/faults", new { action = "pause", scope = "node" });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);

        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(keys.Select(async key =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = JsonContent.Create(new { url = $"https://example.com/{key}" }) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await _node.Client.SendAsync(request);
            return (response.StatusCode, Elapsed: clock.Elapsed, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }));

        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode);
            Assert.Equal("urn:shortener:problem:no-quorum", a.Body.GetProperty("type").GetString());
            Assert.True(a.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {a.Elapsed.TotalSeconds:0.0} s");
        });

        // Healed, the same requests go through.
        await _node.Client.DeleteAsync("/admin/v1/faults");
        using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = JsonContent.Create(new { url = $"https://example.com/{keys[0]}" }) };
        retry.Headers.Add("Idempotency-Key", keys[0]);
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.SendAsync(retry)).StatusCode);
    }
}
