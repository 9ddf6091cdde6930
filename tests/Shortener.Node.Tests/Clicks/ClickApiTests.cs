using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Shortener.Node.Tests.Clicks;

public sealed class ClickApiTests : IAsyncLifetime
{
    private const string Human = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0";
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-10T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, time: _time);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Redirects_are_counted_per_day_with_bots_apart_and_referrers_ranked()
    {
        var code = await CreateAsync(_node);
        await Follow(_node, code, Human, "https://www.news.example/story", "de");
        await Follow(_node, code, Human, "https://news.example/other");
        await Follow(_node, code, Human, "https://blog.example/");
        await Follow(_node, code, "Mozilla/5.0 (compatible; Googlebot/2.1)", "https://news.example/");
        Assert.Equal(302, (int)(await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/{code}"))).StatusCode);
        _time.Advance(TimeSpan.FromDays(1));
        await Follow(_node, code, Human);

        var stats = await StatsWhenAsync(_node, code, s => s.GetProperty("total").GetInt64() == 6);
        Assert.Equal((4L, 2L), (stats.GetProperty("nonBot").GetInt64(), stats.GetProperty("bots").GetInt64()));
        Assert.Equal("quorum", stats.GetProperty("consistency").GetString());
        var days = stats.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(30, days.Count);
        Assert.Equal("2030-01-11", stats.GetProperty("to").GetString());
        Assert.Equal(("2030-01-10", 5L, 3L, 2L), Day(days[^2]));
        Assert.Equal(("2030-01-11", 1L, 1L, 0L), Day(days[^1]));
        Assert.All(days.SkipLast(2), d => Assert.Equal(0, d.GetProperty("total").GetInt64()));
        var referrers = stats.GetProperty("topReferrers").EnumerateArray().Select(r => (r.GetProperty("referrer").GetString(), r.GetProperty("clicks").GetInt64())).ToList();
        Assert.Equal([("news.example", 2L), ("blog.example", 1L)], referrers); // the bot's referrer does not count

        var oneDay = await (await _node.Client.GetAsync($"/api/v1/links/{code}/stats?from=2030-01-11&to=2030-01-11&consistency=one")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, oneDay.GetProperty("total").GetInt64());
        Assert.Equal("one", oneDay.GetProperty("consistency").GetString());
    }

    [Theory]
    [InlineData("?from=2030-13-01", HttpStatusCode.BadRequest)]
    [InlineData("?from=2030-01-05&to=2030-01-01", HttpStatusCode.BadRequest)]
    [InlineData("?from=2000-01-01&to=2030-01-01", HttpStatusCode.BadRequest)]
    [InlineData("?consistency=two", HttpStatusCode.BadRequest)]
    [InlineData("?consistency=ALL", HttpStatusCode.OK)]
    [InlineData("?consistency=local_quorum", HttpStatusCode.OK)]
    public async Task Stats_requests_are_checked(string query, HttpStatusCode expected)
    {
        var code = await CreateAsync(_node);
        var response = await _node.Client.GetAsync($"/api/v1/links/{code}/stats{query}");
        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("urn:shortener:problem:malformed-request", problem.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Stats_need_the_api_key_and_a_known_link()
    {
        var code = await CreateAsync(_node);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.GetAsync($"/api/v1/links/{code}/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.GetAsync("/api/v1/stats/summary")).StatusCode);
        var missing = await _node.Client.GetAsync("/api/v1/links/nothere1/stats");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("urn:shortener:problem:not-found", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_summary_adds_up_every_link_and_ranks_them()
    {
        var busy = await CreateAsync(_node);
        var quiet = await CreateAsync(_node);
        for (var i = 0; i < 3; i++)
        {
            await Follow(_node, busy, Human);
        }

        await Follow(_node, quiet, Human);
        await StatsWhenAsync(_node, busy, s => s.GetProperty("total").GetInt64() == 3);
        await StatsWhenAsync(_node, quiet, s => s.GetProperty("total").GetInt64() == 1);
        var summary = await (await _node.Client.GetAsync("/api/v1/stats/summary")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(summary.GetProperty("total").GetInt64() >= 4);
        Assert.True(summary.GetProperty("complete").GetBoolean());
        Assert.Equal((1, 1), (summary.GetProperty("nodesAnswered").GetInt32(), summary.GetProperty("nodes").GetInt32()));
        var top = summary.GetProperty("topLinks").EnumerateArray().Select(l => l.GetProperty("code").GetString()).ToList();
        Assert.True(top.IndexOf(busy) < top.IndexOf(quiet), string.Join(",", top));
    }

    [Fact]
    public async Task Clicks_in_the_outbox_survive_a_restart_and_are_shipped_after_it()
    {
        await _node.DisposeAsync();
        var dir = Path.Combine(_dir.Path, "restart");
        // A relay that never gets to run: the clicks stay in the outbox.
        var stalled = await TestNode.StartAsync(dir, new Dictionary<string, string?> { ["Shortener:Clicks:TickMs"] = "3600000" }, time: _time);
        var code = await CreateAsync(stalled);
        for (var i = 0; i < 5; i++)
        {
            await Follow(stalled, code, Human);
        }

        await stalled.DisposeAsync();
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "clicks", "outbox"), "*.outbox"));

        _node = await TestNode.StartAsync(dir, time: _time);
        var stats = await StatsWhenAsync(_node, code, s => s.GetProperty("total").GetInt64() == 5);
        Assert.Equal(5, stats.GetProperty("nonBot").GetInt64());
    }

    [Fact]
    public async Task With_tracking_off_redirects_record_nothing_and_stats_say_so()
    {
        await _node.DisposeAsync();
        _node = await TestNode.StartAsync(Path.Combine(_dir.Path, "off"), new Dictionary<string, string?> { ["Shortener:Clicks:Delivery"] = "off" }, time: _time);
        var code = await CreateAsync(_node);
        await Follow(_node, code, Human);
        var response = await _node.Client.GetAsync($"/api/v1/links/{code}/stats");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("urn:shortener:problem:clicks-disabled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "off", "clicks")));
    }

    [Theory]
    [InlineData("Shortener:Clicks:Delivery", "twice")]
    [InlineData("Shortener:Clicks:WriteConsistency", "most")]
    [InlineData("Shortener:Clicks:RelayBatchSize", "0")]
    [InlineData("Shortener:Clicks:SealAfterDays", "0.1")]
    [InlineData("Shortener:Clicks:SealIntervalMs", "0")]
    public async Task Bad_click_options_stop_the_start_with_their_name(string option, string value)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(Path.Combine(_dir.Path, "bad"), new Dictionary<string, string?> { [option] = value }));
        Assert.Contains("Shortener:Clicks", e.Message);
    }

    [Fact]
    public async Task A_stats_read_is_a_span_of_its_own_under_the_request()
    {
        var code = await CreateAsync(_node);
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "Shortener" or "Microsoft.AspNetCore",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        Assert.Equal(HttpStatusCode.OK, (await _node.Client.GetAsync($"/api/v1/links/{code}/stats?consistency=all")).StatusCode);
        var read = Assert.Single(spans, a => a.OperationName == "clicks.read" && Equals(a.GetTagItem("link.code"), code));
        Assert.Equal("all", read.GetTagItem("clicks.level"));
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Unset, read.Status);
        // The request's own span ends just after the response went out.
        for (var i = 0; !spans.Any(a => a.Source.Name == "Microsoft.AspNetCore" && a.SpanId == read.ParentSpanId); i++)
        {
            Assert.True(i < 100, "the clicks.read span's parent is not the request's span");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_day_past_the_seal_horizon_is_sealed_and_counts_as_before()
    {
        await _node.DisposeAsync();
        var logs = new CapturingLoggerProvider();
        _node = await TestNode.StartAsync(
            Path.Combine(_dir.Path, "sealing"),
            new Dictionary<string, string?> { ["Shortener:Clicks:SealIntervalMs"] = "50", ["Logging:LogLevel:Shortener.Node.Clicks"] = "Information" },
            time: _time,
            configure: b => b.Logging.AddProvider(logs));
        var code = await CreateAsync(_node);
        await Follow(_node, code, Human, "https://news.example/a");
        await Follow(_node, code, Human, "https://news.example/b");
        await Follow(_node, code, Human);
        await Follow(_node, code, "curl/8.5.0");
        var before = await StatsWhenAsync(_node, code, s => s.GetProperty("total").GetInt64() == 4);

        // Eight days on, 2030-01-10 is past the 7-day horizon: sealed into per-origin counters.
        _time.Advance(TimeSpan.FromDays(8));
        // The service's own figures, not /metrics: the exporter sums every node's meter in this process.
        var clicks = _node.Services.GetRequiredService<Shortener.Node.Clicks.ClickService>();
        for (var i = 0; clicks.Figures.Node.ClicksSealed < 4; i++)
        {
            Assert.True(i < 200, "the day was not sealed within 10 s");
            await Task.Delay(50);
        }

        Assert.Contains("shortener_clicks_sealed_total", await _node.Client.GetStringAsync("/metrics"));

        await Follow(_node, code, Human);
        var after = await StatsWhenAsync(_node, code, s => s.GetProperty("total").GetInt64() == 5);
        var days = after.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(("2030-01-10", 4L, 3L, 1L), Day(days.Single(d => d.GetProperty("date").GetString() == "2030-01-10")));
        Assert.Equal(("2030-01-18", 1L, 1L, 0L), Day(days[^1]));
        Assert.Equal(before.GetProperty("topReferrers").ToString(), after.GetProperty("topReferrers").ToString());
        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Sealed 4 clicks", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("at-least-once")]
    [InlineData("at-most-once")]
    public async Task The_other_delivery_modes_count_redirects_on_a_healthy_node(string mode)
    {
        await _node.DisposeAsync();
        _node = await TestNode.StartAsync(Path.Combine(_dir.Path, mode), new Dictionary<string, string?> { ["Shortener:Clicks:Delivery"] = mode }, time: _time);
        var code = await CreateAsync(_node);
        for (var i = 0; i < 4; i++)
        {
            await Follow(_node, code, Human);
        }

        await StatsWhenAsync(_node, code, s => s.GetProperty("total").GetInt64() == 4);
    }

    internal static async Task<string> CreateAsync(TestNode node)
    {
        var response = await node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/target"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
    }

    internal static async Task Follow(TestNode node, string code, string userAgent, string? referer = null, string? country = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/{code}");
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        if (referer is not null)
        {
            request.Headers.Referrer = new Uri(referer);
        }

        if (country is not null)
        {
            request.Headers.Add("CF-IPCountry", country);
        }

        var response = await node.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
    }

    internal static async Task<JsonElement> StatsWhenAsync(TestNode node, string code, Func<JsonElement, bool> done)
    {
        JsonElement last = default;
        for (var i = 0; i < 200; i++)
        {
            var response = await node.Client.GetAsync($"/api/v1/links/{code}/stats");
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (done(last))
                {
                    return last;
                }
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"the stats of {code} never got there; last: {last}");
    }

    private static (string?, long, long, long) Day(JsonElement d) =>
        (d.GetProperty("date").GetString(), d.GetProperty("total").GetInt64(), d.GetProperty("nonBot").GetInt64(), d.GetProperty("bots").GetInt64());
}
