using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Shortener.Node.Tests.Changes;

/// <summary>GET /api/v1/visits/changes: the visits this node serves, in its outbox order, as they happen.</summary>
public sealed class VisitStreamTests : NodeTest
{
    private async Task<string> LinkAsync(string code)
    {
        Assert.Equal(HttpStatusCode.Created, (await Node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/" + code, alias = code })).StatusCode);
        return code;
    }

    [Fact]
    public async Task Each_redirect_is_a_visit_event_in_order_and_a_page_waits_for_the_next()
    {
        var code = await LinkAsync("visited");
        var start = (await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?wait=0")).GetProperty("next").GetString()!;
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/" + code);
            request.Headers.Referrer = new Uri("https://news.example.org/story");
            Assert.Equal(HttpStatusCode.Found, (await Node.Anonymous.SendAsync(request)).StatusCode);
        }

        var page = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?after=" + Uri.EscapeDataString(start));
        var events = page.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(3, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("io.shortener.visit.recorded", e.GetProperty("type").GetString());
            Assert.Equal(code, e.GetProperty("subject").GetString());
            Assert.Equal("news.example.org", e.GetProperty("data").GetProperty("referrer").GetString());
        });
        var seqs = events.Select(e => e.GetProperty("data").GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(3, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());

        // Caught up, a page waits for the next visit.
        var next = page.GetProperty("next").GetString()!;
        var waiting = Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?wait=30&after=" + Uri.EscapeDataString(next));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await Node.Anonymous.GetAsync("/" + code);
        Assert.Single((await waiting.WaitAsync(TimeSpan.FromSeconds(10))).GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task The_stream_sends_visits_live_with_positions_to_resume_from()
    {
        var code = await LinkAsync("streamed");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/visits/changes");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Node.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await Node.Anonymous.GetAsync("/" + code);

        string? id = null;
        string? data = null;
        while (data is null)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            if (line!.StartsWith("id: "))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: "))
            {
                data = line[6..];
            }
        }

        Assert.Equal(code, JsonDocument.Parse(data).RootElement.GetProperty("subject").GetString());
        Assert.Matches("^1:[0-9]+$", id);
    }

    [Fact]
    public async Task A_position_from_before_a_restart_is_gone_and_says_where_to_read_instead()
    {
        var code = await LinkAsync("restarted");
        var start = (await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?wait=0")).GetProperty("next").GetString()!;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Found, (await Node.Anonymous.GetAsync("/" + code)).StatusCode);
        }

        var held = (await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?wait=0&after=" + Uri.EscapeDataString(start))).GetProperty("next").GetString()!;

        // The stream is held in memory: a restarted node has only what comes after its last visit.
        await Node.DisposeAsync();
        Node = await TestNode.StartAsync(Dir.Path);
        var expired = await Node.Client.GetAsync("/api/v1/visits/changes?wait=0&after=" + Uri.EscapeDataString(start));
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        var problem = await expired.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:changes-expired", problem.GetProperty("type").GetString());
        Assert.Contains("link stats", problem.GetProperty("detail").GetString());

        // The newest position before the restart is still one to follow from.
        Assert.Equal(HttpStatusCode.Found, (await Node.Anonymous.GetAsync("/" + code)).StatusCode);
        var page = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/visits/changes?wait=5&after=" + Uri.EscapeDataString(held));
        Assert.Single(page.GetProperty("events").EnumerateArray());
    }

    [Theory]
    [InlineData("after=7:3", "node 7")]
    [InlineData("after=x", "node:sequence")]
    [InlineData("limit=0", "limit")]
    public async Task Bad_positions_are_refused(string query, string says)
    {
        var response = await Node.Client.GetAsync("/api/v1/visits/changes?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(says, await response.Content.ReadAsStringAsync());
    }
}
