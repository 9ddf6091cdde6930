using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shortener.Core.Links;
using Shortener.Node.Hosting;
using Shortener.Node.Links;

namespace Shortener.Node.Tests;

/// <summary>Defects found in review of the first version, each pinned by a test.</summary>
public sealed class ReviewRegressionTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly CapturingLoggerProvider _logs = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, time: _time, configure: b => b.Logging.AddProvider(_logs));

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("""{"title":"\ud800"}""")]
    [InlineData("""{"url":"http://a.com/\ud800"}""")]
    [InlineData("""{"tags":["\ud800"]}""")]
    public async Task Unpaired_surrogate_escapes_are_a_400_not_a_500(string patch)
    {
        await Create("""{"url":"https://example.com","alias":"patchme"}""");
        var response = await _node.Client.PatchAsync("/api/v1/links/patchme", TestNode.Json(patch));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("surrogate", (await LinkApiTests.ProblemAsync(response)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.PostAsync("/api/v1/links", TestNode.Json(patch.Replace("}", ""","alias":"x1y"}""", StringComparison.Ordinal)))).StatusCode);
    }

    [Fact]
    public async Task A_retry_after_the_expiry_passed_still_gets_the_first_response()
    {
        var first = await PostWithKey("exp-1", """{"url":"https://example.com","expiresAt":"2030-01-01T00:00:02Z"}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        _time.Advance(TimeSpan.FromSeconds(3));
        var retry = await PostWithKey("exp-1", """{"url":"https://example.com","expiresAt":"2030-01-01T00:00:02Z"}""");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());

        var patch1 = await PatchWithKey("exp-2", "patch-target", """{"expiresAt":"2030-01-01T00:00:10Z"}""", create: true);
        Assert.Equal(HttpStatusCode.OK, patch1.StatusCode);
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, (await PatchWithKey("exp-2", "patch-target", """{"expiresAt":"2030-01-01T00:00:10Z"}""")).StatusCode);
    }

    [Fact]
    public async Task The_same_instant_in_another_time_zone_is_the_same_request()
    {
        Assert.Equal(HttpStatusCode.Created, (await PostWithKey("tz-1", """{"url":"https://example.com","expiresAt":"2030-06-01T00:00:00Z"}""")).StatusCode);
        var retry = await PostWithKey("tz-1", """{"expiresAt":"2030-06-01T01:00:00+01:00","url":"https://example.com"}""");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task A_field_given_twice_is_a_400()
    {
        await Create("""{"url":"https://example.com","alias":"dupe-target"}""");
        var patch = await _node.Client.PatchAsync("/api/v1/links/dupe-target", TestNode.Json("""{"title":"x","title":null}"""));
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Contains("twice", (await LinkApiTests.ProblemAsync(patch)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://a.com","url":"https://b.com"}"""))).StatusCode);
    }

    [Fact]
    public async Task A_500_carries_the_trace_id_in_its_body_and_its_log_line()
    {
        // The node's database holds no open write transaction (the table can be dropped).
        await _node.Services.GetRequiredService<Shortener.Node.Shards.ShardHost>().Replicas[0].Links.WhenCommittedAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir.Path, "shards.db")};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE links";
            drop.ExecuteNonQuery();
        }

        var traceId = "0af7651916cd43dd8448eb211c80319c";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/links/anything");
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
        var response = await _node.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = await LinkApiTests.ProblemAsync(response);
        Assert.Equal("urn:shortener:problem:internal", problem.GetProperty("type").GetString());
        Assert.Equal(traceId, problem.GetProperty("traceId").GetString());
        Assert.Contains(_logs.Entries, e => e.Category.Contains("ExceptionHandler", StringComparison.Ordinal) && e.Scope.TryGetValue("TraceId", out var t) && t?.ToString() == traceId);
    }

    [Fact]
    public void Per_ip_limits_group_ipv6_by_64_and_unmap_ipv4()
    {
        Assert.Equal(
            ShortenerNodeApp.ClientNetwork(IPAddress.Parse("2001:db8:1:2:aaaa::1")),
            ShortenerNodeApp.ClientNetwork(IPAddress.Parse("2001:db8:1:2:bbbb::2")));
        Assert.NotEqual(
            ShortenerNodeApp.ClientNetwork(IPAddress.Parse("2001:db8:1:2::1")),
            ShortenerNodeApp.ClientNetwork(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("10.0.0.1", ShortenerNodeApp.ClientNetwork(IPAddress.Parse("::ffff:10.0.0.1")));
    }

    [Fact]
    public async Task Urls_that_reach_this_node_by_another_loopback_name_are_refused()
    {
        var port = new Uri(_node.BaseUrl).Port;
        foreach (var url in new[] { $"http://[::ffff:127.0.0.1]:{port}/x", $"http://0.0.0.0:{port}/x", $"http://127.0.0.2:{port}/x", $"http://[::1]:{port}/x" })
        {
            var response = await _node.Client.PostAsync("/api/v1/links", TestNode.Json(JsonSerializer.Serialize(new { url })));
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, url);
        }
    }

    private async Task Create(string body) =>
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsync("/api/v1/links", TestNode.Json(body))).StatusCode);

    private async Task<HttpResponseMessage> PostWithKey(string key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await _node.Client.SendAsync(request);
    }

    private async Task<HttpResponseMessage> PatchWithKey(string key, string code, string body, bool create = false)
    {
        if (create)
        {
            await Create(JsonSerializer.Serialize(new { url = "https://example.com", alias = code }));
        }

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/links/{code}") { Content = TestNode.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await _node.Client.SendAsync(request);
    }
}

public class RedirectCacheTests
{
    private static Link L(string code, string url = "https://a.example/") => new(code, url, 1, 1, null, null, 0, 302, [], null, false);

    [Fact]
    public void A_reader_that_started_before_a_commit_cannot_fill_its_stale_value()
    {
        var cache = new RedirectCache(100);
        var version = cache.Version("abc");
        cache.Committed(L("abc", "https://new.example/"));
        cache.TryFill("abc", L("abc", "https://old.example/"), version);
        Assert.True(cache.TryGet("abc", out var link));
        Assert.Equal("https://new.example/", link!.Url);
    }

    [Fact]
    public void A_stale_fill_after_eviction_is_withdrawn()
    {
        var cache = new RedirectCache(100);
        var version = cache.Version("abc");
        cache.Committed(L("abc", "https://new.example/"));

        // Even if the committed entry is gone (evicted), a fill based on the old version stays out.
        for (var i = 0; i < 200; i++)
        {
            cache.Committed(L($"k{i}"));
        }

        cache.TryFill("abc", L("abc", "https://old.example/"), version);
        Assert.False(cache.TryGet("abc", out var link) && link?.Url == "https://old.example/");
    }

    [Fact]
    public void Remembered_misses_never_push_out_links()
    {
        var cache = new RedirectCache(100);
        for (var i = 0; i < 50; i++)
        {
            cache.Committed(L($"live{i}"));
        }

        for (var i = 0; i < 10_000; i++)
        {
            var code = $"miss{i}";
            cache.TryFill(code, null, cache.Version(code));
        }

        Assert.All(Enumerable.Range(0, 50), i => Assert.True(cache.TryGet($"live{i}", out var l) && l is not null));
        Assert.True(cache.Count <= 50 + 16);
    }

    [Fact]
    public void A_commit_replaces_a_remembered_miss()
    {
        var cache = new RedirectCache(100);
        cache.TryFill("abc", null, cache.Version("abc"));
        Assert.True(cache.TryGet("abc", out var missing) && missing is null);
        cache.Committed(L("abc"));
        Assert.True(cache.TryGet("abc", out var link) && link is not null);
    }
}
