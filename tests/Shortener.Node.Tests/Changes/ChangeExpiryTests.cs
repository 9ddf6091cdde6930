using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Shortener.Node.Hosting;

namespace Shortener.Node.Tests.Changes;

/// <summary>A position older than the changes a shard keeps is answered 410 changes-expired, from the tail in memory too.</summary>
public sealed class ChangeExpiryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-10T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:Cluster:Shards"] = "1" }, time: _time);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_position_the_purge_went_past_is_gone_and_says_to_read_the_links_again()
    {
        foreach (var code in new[] { "old-a", "old-b" })
        {
            Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/" + code, alias = code })).StatusCode);
        }

        var first = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?limit=1&wait=0");
        var position = first.GetProperty("next").GetString()!;

        // A day and an hour later the purge forgets both, and keeps what came since.
        _time.Advance(TimeSpan.FromHours(25));
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/new-c", alias = "new-c" })).StatusCode);
        var purge = _node.Services.GetServices<IHostedService>().OfType<IdempotencyPurgeService>().Single();
        await purge.PurgeAsync(CancellationToken.None);

        var expired = await _node.Client.GetAsync("/api/v1/changes?wait=0&after=" + Uri.EscapeDataString(position));
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        var problem = await expired.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:changes-expired", problem.GetProperty("type").GetString());
        Assert.Contains("snapshot", problem.GetProperty("detail").GetString());
        Assert.Equal(0, problem.GetProperty("shard").GetInt32());

        var kept = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?wait=0");
        Assert.Equal(["new-c"], kept.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("subject").GetString()));
    }
}
