using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Shortener.Core.Clicks;
using Shortener.Core.Cluster;
using Shortener.Node.Api;
using Shortener.Node.Clicks;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Node.Security;
using Shortener.Node.Tests.Clicks;

namespace Shortener.Node.Tests;

public sealed class DashboardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-10T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, time: _time);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<HttpResponseMessage> OpenAsync(AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard") { Headers = { Authorization = authorization } };
        return await _node.Anonymous.SendAsync(request);
    }

    [Fact]
    public async Task The_page_needs_the_key_and_a_browser_is_asked_for_it_through_basic()
    {
        var anonymous = await OpenAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Equal("urn:shortener:problem:unauthorized", (await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        var wrong = await OpenAsync(Basic("admin", "not-the-key"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not valid", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAsync(new AuthenticationHeaderValue("Basic", "%%%not base64"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAsync(new AuthenticationHeaderValue("Bearer", TestNode.Key))).StatusCode);

        var basic = await OpenAsync(Basic("anyone", TestNode.Key));
        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        Assert.Equal("text/html", basic.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", basic.Headers.CacheControl?.ToString());
        Assert.Contains("default-src 'none'", basic.Headers.GetValues("Content-Security-Policy").Single());

        // The same key in the API's own header opens it too, and Basic works on the API as well.
        Assert.Equal(HttpStatusCode.OK, (await _node.Client.GetAsync("/dashboard")).StatusCode);
        using var cluster = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/cluster") { Headers = { Authorization = Basic("", TestNode.Key) } };
        Assert.Equal(HttpStatusCode.OK, (await _node.Anonymous.SendAsync(cluster)).StatusCode);

        // Writes take the header only: a browser would send cached Basic credentials on another site's form post.
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com/csrf"}"""), Headers = { Authorization = Basic("me", TestNode.Key) } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.SendAsync(create)).StatusCode);
    }

    [Fact]
    public async Task The_page_shows_the_node_its_shards_and_the_clicks_of_the_week()
    {
        var code = await ClickApiTests.CreateAsync(_node);
        for (var i = 0; i < 3; i++)
        {
            await ClickApiTests.Follow(_node, code, "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0");
        }

        await ClickApiTests.Follow(_node, code, "Mozilla/5.0 (compatible; Googlebot/2.1)");
        var view = (await _node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/cluster"))!;
        var shards = view.GetProperty("shards").GetArrayLength();

        var page = string.Empty;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!page.Contains("<b>4</b> clicks", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the dashboard did not count the 4 clicks within 10 s:\n{page}");
            await Task.Delay(50);
            page = await (await OpenAsync(Basic("me", TestNode.Key))).Content.ReadAsStringAsync();
        }

        Assert.Contains("<meta http-equiv=\"refresh\" content=\"5\">", page);
        Assert.Contains("2030-01-04 to 2030-01-10", page);
        Assert.Contains("3 by people, 1 by bots", page);
        Assert.Matches($"<td><a href=\"/api/v1/links/{code}/stats\">{code}</a></td><td class=\"n\">4</td><td class=\"n\">3</td><td class=\"n\">1</td>", page);
        Assert.Equal(shards, Regex.Matches(page, "<tr data-shard=").Count);
        Assert.Equal(shards, Regex.Matches(page, "<td class=\"leader\">leader</td>").Count); // a node alone leads every shard
        Assert.Contains("<td class=\"self\">self</td>", page);
        Assert.Matches("id=\"click-pipeline\">.*\\n<tr><td class=\"n\">\\d+</td>", page);
    }

    [Fact]
    public async Task A_click_store_that_cannot_answer_leaves_the_rest_of_the_page()
    {
        var pause = await _node.Client.PostAsJsonAsync("/admin/v1/faults", new { action = "pause", scope = "node", forSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        var paused = await OpenAsync(Basic("me", TestNode.Key));
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var page = await paused.Content.ReadAsStringAsync();
        Assert.Contains("<p class=\"bad\" id=\"click-summary-error\">No summary: no node of the click store answered: this node&#39;s click store is paused", page);
        Assert.Contains("<h2>Shards", page);
        Assert.DoesNotContain("id=\"click-summary\"", page);

        Assert.Equal(HttpStatusCode.OK, (await _node.Client.DeleteAsync("/admin/v1/faults")).StatusCode);
        page = await (await OpenAsync(Basic("me", TestNode.Key))).Content.ReadAsStringAsync();
        Assert.Contains("id=\"click-summary\"><b>0</b> clicks", page);
    }

    [Fact]
    public async Task Without_click_tracking_the_page_has_no_click_section()
    {
        await _node.DisposeAsync();
        _node = await TestNode.StartAsync(Path.Combine(_dir.Path, "off"), new Dictionary<string, string?> { ["Shortener:Clicks:Delivery"] = "off" }, time: _time);
        var page = await (await OpenAsync(Basic("me", TestNode.Key))).Content.ReadAsStringAsync();
        Assert.Contains("<h2>Shards", page);
        Assert.DoesNotContain("<h2>Clicks", page);
    }

    [Fact]
    public void Rendering_encodes_every_value_and_marks_what_is_wrong()
    {
        var view = new ClusterView(
            1,
            "dc<1>",
            [new ClusterMember(1, "dc<1>", "http://a", "http://a"), new ClusterMember(2, "dc2", "http://b", "http://b\"><script>"), new ClusterMember(3, "dc3", "http://c", "http://c", Leaving: true)],
            3,
            "drop to [2]",
            [new ShardView(0, "follower", 4, 0, 10, 9, 10, 0, 5, [1, 2, 3], [], null, false), new ShardView(1, "leader", 2, 1, 7, 7, 7, 0, 0, [1, 2, 3], [], new Dictionary<string, ulong> { ["2"] = 0, ["3"] = 5 }, true)],
            2,
            [new GossipMemberView(2, "dc2", "suspect", 3, 9.25), new GossipMemberView(3, "dc3", "dead", 0, 12)]);
        var figures = ClickFigures.Empty with { Lost = 2 };
        var failed = DashboardPage.Render(view, new DashboardPage.Clicks(figures, null, "no node answered <x>", "2030-01-04", "2030-01-10"), 5, DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain("<script>", failed);
        Assert.DoesNotContain("dc<1>", failed);
        Assert.Contains("dc&lt;1&gt;", failed);
        Assert.Contains("http://b&quot;&gt;&lt;script&gt;/dashboard", failed);
        Assert.Contains("<td class=\"suspect\">suspect</td><td class=\"n\">9.3</td><td class=\"n\">3</td>", failed);
        Assert.Contains("<td class=\"dead\">dead</td><td class=\"n\">12.0</td>", failed);
        Assert.Contains("3 <small>(leaving)</small>", failed);
        Assert.Contains("faults injected: drop to [2]", failed);
        Assert.Contains("<td class=\"n bad\">none</td>", failed); // shard 0 has no leader
        Assert.Contains("<td class=\"failed\">failed</td>", failed);
        Assert.Contains("<td>2: 0, 3: 5</td>", failed);
        Assert.Contains("<td class=\"n bad\">2</td>", failed); // lost clicks
        Assert.Contains("No summary: no node answered &lt;x&gt;", failed);

        var partial = new ClickSummary(10, 8, 2, [new ClickTotals("a&b", 8, 2)], 2, 3, 30, 32);
        var page = DashboardPage.Render(view, new DashboardPage.Clicks(ClickFigures.Empty, partial, null, "2030-01-04", "2030-01-10"), 5, DateTimeOffset.UnixEpoch);
        Assert.Contains("2 of 3 nodes answered; 2 of 32 ring ranges had no replica answer", page);
        Assert.Contains("<a href=\"/api/v1/links/a%26b/stats\">a&amp;b</a>", page);
    }

    [Theory]
    [InlineData("Basic dTprZXk=", "key")] // u:key
    [InlineData("basic OmtleTp3aXRoOmNvbG9ucw==", "key:with:colons")] // :key:with:colons
    [InlineData("Basic bm8tY29sb24=", null)] // no-colon
    [InlineData("Basic !!!", null)]
    [InlineData("Bearer dTprZXk=", null)]
    [InlineData("", null)]
    public void The_basic_password_is_the_part_after_the_first_colon(string header, string? password) =>
        Assert.Equal(password, ApiKeyAuthenticationHandler.BasicPassword(header));
}
