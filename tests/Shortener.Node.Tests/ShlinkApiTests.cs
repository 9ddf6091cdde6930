using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shortener.Node.Api.Shlink;

namespace Shortener.Node.Tests;

/// <summary>
/// The Shlink REST API v3 against the requests and responses of Shlink's own documentation
/// (docs/swagger examples and its API tests): field names, status codes, paging, problem types.
/// </summary>
[Collection(ProcessWideMetrics.Name)]
public sealed class ShlinkApiTests : NodeTest
{
    private const string AtomDate = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$";

    [Fact]
    public async Task Health_answers_without_a_key_on_both_paths()
    {
        foreach (var path in new[] { "/rest/health", "/rest/v3/health" })
        {
            var response = await Node.Anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/health+json", response.Content.Headers.ContentType!.MediaType);
            var body = await Json(response);
            Assert.Equal("pass", body.GetProperty("status").GetString());
            Assert.Equal(ShlinkEndpoints.CompatibleVersion, body.GetProperty("version").GetString());
        }
    }

    [Fact]
    public async Task Missing_and_invalid_keys_get_shlinks_problems()
    {
        var missing = await Node.Anonymous.GetAsync("/rest/v3/short-urls");
        var body = await Problem(missing, 401, "missing-authentication");
        Assert.Equal("X-Api-Key", body.GetProperty("expectedHeaders")[0].GetString());

        using var bad = new HttpClient { BaseAddress = new Uri(Node.BaseUrl) };
        bad.DefaultRequestHeaders.Add("X-Api-Key", "not-a-key");
        await Problem(await bad.GetAsync("/rest/v3/short-urls"), 401, "invalid-api-key");
        await Problem(await Node.Client.GetAsync("/rest/v3/no-such-thing"), 404, "not-found");
    }

    [Fact]
    public async Task A_short_url_is_created_read_listed_edited_and_deleted_as_shlink_documents()
    {
        var until = DateTimeOffset.UtcNow.AddDays(30).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
        var created = await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new
        {
            longUrl = "https://shlink.io/documentation",
            customSlug = "docs page",
            tags = new[] { "Foo Bar", "baz" },
            title = "Docs",
            validUntil = until,
            maxVisits = 100,
            crawlable = true,
            deviceLongUrls = new { android = "ignored" }, // removed in Shlink 4: ignored
        });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var url = await Json(created);
        Assert.Equal(
            ["shortCode", "shortUrl", "longUrl", "dateCreated", "visitsSummary", "tags", "meta", "domain", "title", "crawlable", "forwardQuery", "hasRedirectRules"],
            url.EnumerateObject().Select(p => p.Name));
        Assert.Equal("docs-page", url.GetProperty("shortCode").GetString());
        Assert.Equal(Node.BaseUrl.TrimEnd('/') + "/docs-page", url.GetProperty("shortUrl").GetString());
        Assert.Equal(["foo-bar", "baz"], url.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Matches(AtomDate, url.GetProperty("dateCreated").GetString());
        Assert.Equal(until, url.GetProperty("meta").GetProperty("validUntil").GetString());
        Assert.Equal(JsonValueKind.Null, url.GetProperty("meta").GetProperty("validSince").ValueKind);
        Assert.Equal(100, url.GetProperty("meta").GetProperty("maxVisits").GetInt32());
        Assert.Equal(JsonValueKind.Null, url.GetProperty("domain").ValueKind);
        Assert.True(url.GetProperty("crawlable").GetBoolean());
        Assert.True(url.GetProperty("forwardQuery").GetBoolean()); // Shlink's default
        Assert.Equal(0, url.GetProperty("visitsSummary").GetProperty("total").GetInt32());

        // The slug is taken; findIfExists finds the same link instead.
        var taken = await Problem(await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com", customSlug = "docs-page" }), 400, "non-unique-slug");
        Assert.Equal("docs-page", taken.GetProperty("customSlug").GetString());
        var found = await Json(await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://shlink.io/documentation", findIfExists = true, tags = new[] { "baz", "foo-bar" } }));
        Assert.Equal("docs-page", found.GetProperty("shortCode").GetString());
        var invalid = await Problem(await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "foo.com" }), 400, "invalid-data");
        Assert.Equal("longUrl", invalid.GetProperty("invalidElements")[0].GetString());
        await Problem(await Node.Client.PostAsync("/rest/v3/short-urls", TestNode.Json("{not json")), 400, "malformed-request-body");

        var read = await Json(await Node.Client.GetAsync("/rest/v3/short-urls/docs-page"));
        Assert.Equal("https://shlink.io/documentation", read.GetProperty("longUrl").GetString());
        var missing = await Problem(await Node.Client.GetAsync("/rest/v3/short-urls/abc123"), 404, "short-url-not-found");
        Assert.Equal("abc123", missing.GetProperty("shortCode").GetString());
        Assert.Equal("No URL found with short code \"abc123\"", missing.GetProperty("detail").GetString());

        var edited = await Json(await Node.Client.PatchAsync("/rest/v3/short-urls/docs-page", TestNode.Json("""{"title":null,"maxVisits":null,"tags":["edited"],"forwardQuery":false}""")));
        Assert.Equal(JsonValueKind.Null, edited.GetProperty("title").ValueKind);
        Assert.Equal(JsonValueKind.Null, edited.GetProperty("meta").GetProperty("maxVisits").ValueKind);
        Assert.Equal(["edited"], edited.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.False(edited.GetProperty("forwardQuery").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await Node.Client.DeleteAsync("/rest/v3/short-urls/docs-page")).StatusCode);
        await Problem(await Node.Client.GetAsync("/rest/v3/short-urls/docs-page"), 404, "short-url-not-found");
        await Problem(await Node.Client.DeleteAsync("/rest/v3/short-urls/docs-page"), 404, "short-url-not-found");
    }

    [Fact]
    public async Task The_list_pages_filters_and_orders_as_shlink_does()
    {
        foreach (var (slug, target, tags) in new[] { ("aaa-one", "https://c.example/", new[] { "x" }), ("bbb-two", "https://a.example/", new[] { "x", "y" }), ("ccc-three", "https://b.example/", new[] { "z" }) })
        {
            Assert.Equal(HttpStatusCode.OK, (await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = target, customSlug = slug, tags })).StatusCode);
        }

        var page = (await Json(await Node.Client.GetAsync("/rest/v3/short-urls?itemsPerPage=2&page=2"))).GetProperty("shortUrls");
        Assert.Equal("aaa-one", page.GetProperty("data")[0].GetProperty("shortCode").GetString()); // newest first by default
        var pagination = page.GetProperty("pagination");
        Assert.Equal(
            (2, 2, 2, 1, 3),
            (pagination.GetProperty("currentPage").GetInt32(), pagination.GetProperty("pagesCount").GetInt32(), pagination.GetProperty("itemsPerPage").GetInt32(),
             pagination.GetProperty("itemsInCurrentPage").GetInt32(), pagination.GetProperty("totalItems").GetInt32()));

        Assert.Equal(["bbb-two", "ccc-three", "aaa-one"], await CodesAsync("orderBy=longUrl-ASC"));
        Assert.Equal(["ccc-three", "bbb-two", "aaa-one"], await CodesAsync("orderBy=shortCode-DESC"));
        Assert.Equal(["bbb-two", "aaa-one"], await CodesAsync("tags%5B%5D=x"));
        Assert.Equal(["bbb-two"], await CodesAsync("tags[]=x&tags[]=y&tagsMode=all"));
        Assert.Equal(["ccc-three"], await CodesAsync("searchTerm=B.EXAMPLE"));
        Assert.Equal(["ccc-three", "bbb-two", "aaa-one"], await CodesAsync("itemsPerPage=-1&orderBy=visits-DESC&domain=DEFAULT"));
        Assert.Empty(await CodesAsync("domain=other.example"));
        Assert.Equal("orderBy", (await Problem(await Node.Client.GetAsync("/rest/v3/short-urls?orderBy=height-ASC"), 400, "invalid-data")).GetProperty("invalidElements")[0].GetString());
        Assert.Equal("tagsMode", (await Problem(await Node.Client.GetAsync("/rest/v3/short-urls?tagsMode=some"), 400, "invalid-data")).GetProperty("invalidElements")[0].GetString());
    }

    [Fact]
    public async Task Redirects_honour_forward_query_and_valid_since_and_visits_are_counted()
    {
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/landing?utm=1", customSlug = "fwd" });
        var later = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/later", customSlug = "not-yet", validSince = later });

        var redirect = await Node.Anonymous.GetAsync("/fwd?ref=mail#x");
        Assert.Equal("https://example.com/landing?utm=1&ref=mail", redirect.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Anonymous.GetAsync("/not-yet")).StatusCode);

        // The click goes through the click pipeline: wait for the visit to show.
        JsonElement visits = default;
        for (var i = 0; i < 100 && (visits.ValueKind == JsonValueKind.Undefined || visits.GetProperty("pagination").GetProperty("totalItems").GetInt32() == 0); i++)
        {
            await Task.Delay(100);
            visits = (await Json(await Node.Client.GetAsync("/rest/v3/short-urls/fwd/visits"))).GetProperty("visits");
        }

        Assert.Equal(1, visits.GetProperty("pagination").GetProperty("totalItems").GetInt32());
        var visit = visits.GetProperty("data")[0];
        Assert.Equal(["referer", "date", "userAgent", "visitLocation", "potentialBot", "visitedUrl", "redirectUrl"], visit.EnumerateObject().Select(p => p.Name));
        Assert.Matches(@"T00:00:00\+00:00$", visit.GetProperty("date").GetString());
        Assert.Equal("https://example.com/landing?utm=1", visit.GetProperty("redirectUrl").GetString());
        Assert.Equal(1, (await Json(await Node.Client.GetAsync("/rest/v3/short-urls/fwd"))).GetProperty("visitsSummary").GetProperty("total").GetInt32());
        Assert.Equal(1, (await Json(await Node.Client.GetAsync("/rest/v3/visits"))).GetProperty("visits").GetProperty("nonOrphanVisits").GetProperty("total").GetInt32());
        Assert.Equal(0, (await Json(await Node.Client.GetAsync("/rest/v3/short-urls/fwd/visits?excludeBots=true&startDate=2000-01-01&endDate=2000-01-02"))).GetProperty("visits").GetProperty("pagination").GetProperty("totalItems").GetInt32());
        Assert.Equal(1, (await Json(await Node.Client.GetAsync("/rest/v3/visits/non-orphan"))).GetProperty("visits").GetProperty("pagination").GetProperty("totalItems").GetInt32());
        Assert.Equal(0, (await Json(await Node.Client.GetAsync("/rest/v3/visits/orphan"))).GetProperty("visits").GetProperty("pagination").GetProperty("totalItems").GetInt32());
        await Problem(await Node.Client.DeleteAsync("/rest/v3/short-urls/fwd/visits"), 501, null);
    }

    [Fact]
    public async Task Tags_are_listed_counted_renamed_and_deleted()
    {
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/1", customSlug = "t-one", tags = new[] { "games", "tech" } });
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/2", customSlug = "t-two", tags = new[] { "games" } });

        var tags = (await Json(await Node.Client.GetAsync("/rest/v3/tags"))).GetProperty("tags");
        Assert.Equal(["games", "tech"], tags.GetProperty("data").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(2, tags.GetProperty("pagination").GetProperty("totalItems").GetInt32());
        var stats = (await Json(await Node.Client.GetAsync("/rest/v3/tags/stats"))).GetProperty("tags").GetProperty("data")[0];
        Assert.Equal(("games", 2, 0), (stats.GetProperty("tag").GetString(), stats.GetProperty("shortUrlsCount").GetInt32(), stats.GetProperty("visitsSummary").GetProperty("total").GetInt32()));

        await Problem(await Node.Client.PutAsJsonAsync("/rest/v3/tags", new { oldName = "games", newName = "tech" }), 409, "tag-conflict");
        await Problem(await Node.Client.PutAsJsonAsync("/rest/v3/tags", new { oldName = "nope", newName = "other" }), 404, "tag-not-found");
        await Problem(await Node.Client.PutAsJsonAsync("/rest/v3/tags", new { oldName = "games" }), 400, "invalid-data");
        Assert.Equal(HttpStatusCode.NoContent, (await Node.Client.PutAsJsonAsync("/rest/v3/tags", new { oldName = "games", newName = "play" })).StatusCode);
        Assert.Equal(["play", "tech"], (await Json(await Node.Client.GetAsync("/rest/v3/short-urls/t-one"))).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await Node.Client.DeleteAsync("/rest/v3/tags?tags%5B%5D=play")).StatusCode);
        Assert.Equal(["tech"], (await Json(await Node.Client.GetAsync("/rest/v3/tags"))).GetProperty("tags").GetProperty("data").EnumerateArray().Select(t => t.GetString()));
        await Problem(await Node.Client.GetAsync("/rest/v3/tags/play/visits"), 404, "tag-not-found");
    }

    [Fact]
    public async Task Domains_mercure_cors_shorten_and_roles()
    {
        var domains = (await Json(await Node.Client.GetAsync("/rest/v3/domains"))).GetProperty("domains");
        Assert.Equal(new Uri(Node.BaseUrl).Authority, domains.GetProperty("data")[0].GetProperty("domain").GetString());
        Assert.True(domains.GetProperty("data")[0].GetProperty("isDefault").GetBoolean());
        Assert.Equal(JsonValueKind.Null, domains.GetProperty("defaultRedirects").GetProperty("baseUrlRedirect").ValueKind);
        await Problem(await Node.Client.GetAsync("/rest/v3/mercure-info"), 501, "mercure-not-configured");

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/rest/v3/short-urls");
        preflight.Headers.Add("Origin", "https://app.shlink.io");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key,content-type");
        var answer = await Node.Anonymous.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("*", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var text = await Node.Anonymous.GetAsync($"/rest/v3/short-urls/shorten?apiKey={TestNode.Key}&longUrl=https%3A%2F%2Fexample.com%2Fone-step&format=txt");
        Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith(Node.BaseUrl.TrimEnd('/') + "/", await text.Content.ReadAsStringAsync());
        await Problem(await Node.Anonymous.GetAsync("/rest/v3/short-urls/shorten?longUrl=https%3A%2F%2Fexample.com"), 401, "missing-authentication");

        var key = await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = "reader", role = "read-only" });
        using var reader = new HttpClient { BaseAddress = new Uri(Node.BaseUrl) };
        reader.DefaultRequestHeaders.Add("X-Api-Key", (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/rest/v3/short-urls")).StatusCode);
        await Problem(await reader.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com" }), 403, null);
    }

    [Fact]
    public async Task An_owners_key_sees_and_changes_only_its_owners_short_urls()
    {
        using var teamA = await KeyAsync("links", "team-a");
        using var teamB = await KeyAsync("links", "team-b");
        Assert.Equal(HttpStatusCode.OK, (await teamA.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/a", customSlug = "owned-by-a", tags = new[] { "shared" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/a", customSlug = "owned-by-admin", tags = new[] { "shared" } })).StatusCode);

        Assert.Equal(["owned-by-a"], await CodesAsync(teamA, ""));
        Assert.Empty(await CodesAsync(teamB, ""));
        await Problem(await teamB.GetAsync("/rest/v3/short-urls/owned-by-a"), 404, "short-url-not-found");
        await Problem(await teamB.PatchAsync("/rest/v3/short-urls/owned-by-a", TestNode.Json("""{"title":"mine"}""")), 404, "short-url-not-found");
        await Problem(await teamB.DeleteAsync("/rest/v3/short-urls/owned-by-a"), 404, "short-url-not-found");
        await Problem(await teamB.GetAsync("/rest/v3/short-urls/owned-by-a/visits"), 404, "short-url-not-found");
        await Problem(await teamB.GetAsync("/rest/v3/tags/shared/visits"), 404, "tag-not-found");
        await Problem(await teamB.PutAsJsonAsync("/rest/v3/tags", new { oldName = "shared", newName = "other" }), 403, "forbidden-tag-operation");
        await Problem(await teamB.DeleteAsync("/rest/v3/tags?tags[]=shared"), 403, "forbidden-tag-operation");
        await Problem(await teamB.GetAsync("/rest/v3/visits/non-orphan"), 403, null);
        Assert.Empty((await Json(await teamB.GetAsync("/rest/v3/tags"))).GetProperty("tags").GetProperty("data").EnumerateArray());
        Assert.Equal(1, (await Json(await teamA.GetAsync("/rest/v3/tags/stats"))).GetProperty("tags").GetProperty("data")[0].GetProperty("shortUrlsCount").GetInt32());
        Assert.Equal(0, (await Json(await teamB.GetAsync("/rest/v3/visits"))).GetProperty("visits").GetProperty("nonOrphanVisits").GetProperty("total").GetInt32());

        // findIfExists finds only what the key may see: team b gets a link of its own.
        var found = await Json(await teamB.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/a", findIfExists = true }));
        Assert.NotEqual("owned-by-a", found.GetProperty("shortCode").GetString());
        Assert.NotEqual("owned-by-admin", found.GetProperty("shortCode").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await teamA.DeleteAsync("/rest/v3/short-urls/owned-by-a")).StatusCode);
    }

    [Fact]
    public async Task Bounds_and_refusals_renaming_to_itself_deep_pages_and_the_one_step_create()
    {
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/self", customSlug = "self-tag", tags = new[] { "games" } });
        var rename = Node.Client.PutAsJsonAsync("/rest/v3/tags", new { oldName = "games", newName = "Games" });
        Assert.Same(rename, await Task.WhenAny(rename, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Equal(HttpStatusCode.NoContent, (await rename).StatusCode);
        Assert.Equal(["games"], (await Json(await Node.Client.GetAsync("/rest/v3/short-urls/self-tag"))).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        Assert.Equal("page", (await Problem(await Node.Client.GetAsync("/rest/v3/short-urls?page=1000000&itemsPerPage=1000"), 400, "invalid-data")).GetProperty("invalidElements")[0].GetString());
        Assert.Equal(1000, (await Json(await Node.Client.GetAsync("/rest/v3/short-urls?itemsPerPage=5000"))).GetProperty("shortUrls").GetProperty("pagination").GetProperty("itemsPerPage").GetInt32());

        using var reader = await KeyAsync("read-only", null);
        var readOnlyKey = reader.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        await Problem(await Node.Anonymous.GetAsync($"/rest/v3/short-urls/shorten?apiKey={readOnlyKey}&longUrl=https%3A%2F%2Fexample.com"), 403, null);
        await Problem(await Node.Anonymous.GetAsync("/rest/v3/short-urls/shorten?apiKey=wrong-key&longUrl=https%3A%2F%2Fexample.com"), 401, "invalid-api-key");
        Assert.Contains("reason=\"invalid-key\"", await Node.Client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Robots_txt_allows_the_crawlable_links_only()
    {
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/c", customSlug = "crawl-me", crawlable = true });
        await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com/n", customSlug = "hide-me" });
        var robots = await Node.Anonymous.GetStringAsync("/robots.txt");
        Assert.Contains("User-agent: *\nAllow: /crawl-me\nDisallow: /\n", robots);
        Assert.DoesNotContain("hide-me", robots);
    }

    private async Task<HttpClient> KeyAsync(string role, string? owner)
    {
        var made = await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = role + "-" + owner, role, owner });
        var client = new HttpClient { BaseAddress = new Uri(Node.BaseUrl) };
        client.DefaultRequestHeaders.Add("X-Api-Key", (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        return client;
    }

    private static async Task<IReadOnlyList<string?>> CodesAsync(HttpClient client, string query) =>
        [.. (await Json(await client.GetAsync("/rest/v3/short-urls?" + query))).GetProperty("shortUrls").GetProperty("data").EnumerateArray().Select(u => u.GetProperty("shortCode").GetString())];

    private async Task<IReadOnlyList<string?>> CodesAsync(string query) =>
        [.. (await Json(await Node.Client.GetAsync("/rest/v3/short-urls?" + query))).GetProperty("shortUrls").GetProperty("data").EnumerateArray().Select(u => u.GetProperty("shortCode").GetString())];

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Checks a problem: status, Shlink's type (null: not one of Shlink's) and the status field; returns the body.</summary>
    [Fact]
    public async Task A_slug_a_transaction_holds_is_answered_409_locked_not_a_server_error()
    {
        var shards = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Shortener.Node.Shards.ShardHost>(Node.Services);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var create = new Shortener.Core.Links.CreateLink(now, "held-slug", "https://example.com/held", null, null, 302, [], null);
        await shards.For("held-slug").ProposeAsync(new Shortener.Core.Links.LinkCommandEnvelope(new Shortener.Core.Links.PrepareIntents(now, "t-slug", shards.Router.ShardOf("held-slug"), now + 60_000, [create])), CancellationToken.None);

        var body = await Problem(await Node.Client.PostAsJsonAsync("/rest/v3/short-urls", new { longUrl = "https://example.com", customSlug = "held-slug" }), 409, null);
        Assert.Equal("urn:shortener:problem:locked", body.GetProperty("type").GetString());
        Assert.Equal("t-slug", body.GetProperty("transaction").GetString());
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage response, int status, string? shlinkType)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode} instead of {status}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        if (shlinkType is not null)
        {
            Assert.Equal("https://shlink.io/api/error/" + shlinkType, body.GetProperty("type").GetString());
        }

        return body;
    }
}
