using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Shortener.Node.Tests.Changes;

/// <summary>GET /api/v1/changes: every link change, once, in log order per shard, page after page.</summary>
public sealed class ChangeFeedTests : NodeTest
{
    [Fact]
    public async Task The_feed_pages_through_every_change_once_and_resumes_from_next()
    {
        foreach (var code in new[] { "feed-a", "feed-b", "feed-c" })
        {
            Assert.Equal(HttpStatusCode.Created, (await Node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/" + code, alias = code })).StatusCode);
        }

        await Node.Client.PatchAsync("/api/v1/links/feed-a", TestNode.Json("""{"title":"changed"}""", "application/merge-patch+json"));
        await Node.Client.DeleteAsync("/api/v1/links/feed-b");
        await Node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/x", alias = "feed-a" }); // taken: no change

        // Two at a time, following next, until a page comes back empty.
        var seen = new List<JsonElement>();
        string? next = null;
        for (var page = 0; page < 10; page++)
        {
            var body = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?wait=0&limit=2" + (next is null ? string.Empty : "&after=" + Uri.EscapeDataString(next)));
            var events = body.GetProperty("events").EnumerateArray().ToList();
            next = body.GetProperty("next").GetString();
            if (events.Count == 0)
            {
                break;
            }

            Assert.InRange(events.Count, 1, 2);
            seen.AddRange(events);
        }

        Assert.Equal(5, seen.Count);
        Assert.Equal(seen.Count, seen.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        var ops = seen.Select(e => (e.GetProperty("subject").GetString(), e.GetProperty("data").GetProperty("op").GetString())).ToList();
        Assert.Equal(["c", "u"], ops.Where(o => o.Item1 == "feed-a").Select(o => o.Item2));
        Assert.Equal(["c", "d"], ops.Where(o => o.Item1 == "feed-b").Select(o => o.Item2));
        Assert.Equal(["c"], ops.Where(o => o.Item1 == "feed-c").Select(o => o.Item2));
        Assert.All(seen, e => Assert.Equal("1.0", e.GetProperty("specversion").GetString()));

        // Each event carries the hybrid logical clock its proposer stamped the command with, in proposal order.
        var clocks = seen.Select(e => e.GetProperty("data").GetProperty("source").GetProperty("hlc").GetString()!).ToList();
        Assert.All(clocks, hlc => Assert.NotEqual("0.0", hlc));
        Assert.Equal(clocks.Count, clocks.Distinct().Count());
        var update = seen.Single(e => e.GetProperty("data").GetProperty("op").GetString() == "u").GetProperty("data");
        Assert.Equal(JsonValueKind.Null, update.GetProperty("before").GetProperty("title").ValueKind);
        Assert.Equal("changed", update.GetProperty("after").GetProperty("title").GetString());

        // Within a shard, offsets only grow.
        foreach (var shard in seen.GroupBy(e => e.GetProperty("data").GetProperty("source").GetProperty("shard").GetInt32()))
        {
            var indexes = shard.Select(e => e.GetProperty("data").GetProperty("source").GetProperty("index").GetUInt64()).ToList();
            Assert.Equal(indexes.Order(), indexes);
        }

        // From the last position nothing is new; a new change is.
        Assert.Empty((await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?wait=0&after=" + Uri.EscapeDataString(next!))).GetProperty("events").EnumerateArray());
        await Node.Client.DeleteAsync("/api/v1/links/feed-c");
        var after = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?after=" + Uri.EscapeDataString(next!));
        Assert.Equal("d", after.GetProperty("events")[0].GetProperty("data").GetProperty("op").GetString());
    }

    [Theory]
    [InlineData("after=0:12")]
    [InlineData("after=nonsense")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("wait=61")]
    [InlineData("wait=-1")]
    [InlineData("snapshot=initial")]
    [InlineData("snapshot=full")]
    public async Task Bad_positions_and_limits_are_refused(string query)
    {
        var response = await Node.Client.GetAsync("/api/v1/changes?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("malformed-request", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_empty_page_waits_for_the_next_change_and_brings_it()
    {
        var start = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?wait=0");
        var next = start.GetProperty("next").GetString()!;
        var waiting = Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?wait=30&after=" + Uri.EscapeDataString(next));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/polled", alias = "polled" });
        var page = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the page came {clock.Elapsed} after the change");
        Assert.Equal("polled", Assert.Single(page.GetProperty("events").EnumerateArray()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task The_feed_needs_a_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Node.Anonymous.GetAsync("/api/v1/changes")).StatusCode);
    }
}
