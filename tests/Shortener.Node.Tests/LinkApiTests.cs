using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Shortener.Node.Tests;

public sealed class LinkApiTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, time: _time);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Create_returns_201_with_the_link()
    {
        var response = await _node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/a?b=1","tags":["t1"],"title":"Example"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var link = await response.Content.ReadFromJsonAsync<JsonElement>();
        var code = link.GetProperty("code").GetString()!;
        Assert.Equal(7, code.Length);
        Assert.Equal($"/api/v1/links/{code}", response.Headers.Location!.OriginalString);
        Assert.Equal($"{_node.BaseUrl}/{code}", link.GetProperty("shortUrl").GetString());
        Assert.Equal("https://example.com/a?b=1", link.GetProperty("url").GetString());
        Assert.Equal(302, link.GetProperty("redirectStatus").GetInt32());
        Assert.Equal("active", link.GetProperty("status").GetString());
        Assert.Equal("Example", link.GetProperty("title").GetString());
        Assert.Equal("t1", link.GetProperty("tags")[0].GetString());
        Assert.Equal(JsonValueKind.Null, link.GetProperty("expiresAt").ValueKind);
    }

    [Fact]
    public async Task Redirect_answers_with_the_link_status_and_location()
    {
        foreach (var status in new[] { 301, 302, 307, 308 })
        {
            var code = await CreateAsync($$"""{"url":"https://example.com/{{status}}","redirectStatus":{{status}}}""");
            var get = await _node.Anonymous.GetAsync($"/{code}");
            Assert.Equal(status, (int)get.StatusCode);
            Assert.Equal($"https://example.com/{status}", get.Headers.Location!.OriginalString);
            var head = await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/{code}"));
            Assert.Equal(status, (int)head.StatusCode);
            Assert.Equal($"https://example.com/{status}", head.Headers.Location!.OriginalString);
        }
    }

    [Fact]
    public async Task Unknown_and_malformed_codes_are_404_problems()
    {
        foreach (var path in new[] { "/nope123", "/has.dot", "/" + new string('a', 65), "/%F0%9F%98%80" })
        {
            var response = await _node.Anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var problem = await ProblemAsync(await _node.Anonymous.GetAsync("/nope123"));
        Assert.Equal("urn:shortener:problem:not-found", problem.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/nope123"))).StatusCode);
    }

    [Fact]
    public async Task Aliases_are_unique_and_checked()
    {
        Assert.Equal(HttpStatusCode.Created, (await Post("""{"url":"https://example.com","alias":"my-Link_1"}""")).StatusCode);
        var taken = await Post("""{"url":"https://other.example","alias":"my-Link_1"}""");
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("urn:shortener:problem:alias-taken", (await ProblemAsync(taken)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Created, (await Post("""{"url":"https://example.com","alias":"my-link_1"}""")).StatusCode);

        foreach (var alias in new[] { "ab", "api", "Admin", "has space", "dot.ted", new string('x', 65) })
        {
            var response = await Post(JsonSerializer.Serialize(new { url = "https://example.com", alias }));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var problem = await ProblemAsync(response);
            Assert.Equal("alias", problem.GetProperty("field").GetString());
        }

        Assert.Equal("https://example.com", (await _node.Anonymous.GetAsync("/my-Link_1")).Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("""{"url":"javascript:alert(1)"}""", "url")]
    [InlineData("""{"url":"ftp://example.com"}""", "url")]
    [InlineData("""{"url":"/relative"}""", "url")]
    [InlineData("""{"url":""}""", "url")]
    [InlineData("""{}""", "url")]
    [InlineData("""{"url":"https://example.com","redirectStatus":303}""", "redirectStatus")]
    [InlineData("""{"url":"https://example.com","maxVisits":0}""", "maxVisits")]
    [InlineData("""{"url":"https://example.com","expiresAt":"2029-12-31T00:00:00Z"}""", "expiresAt")]
    [InlineData("""{"url":"https://example.com","tags":["bad tag"]}""", "tags")]
    [InlineData("""{"url":"https://example.com","title":"a\u0001b"}""", "title")]
    public async Task Invalid_fields_are_422_and_name_the_field(string body, string field)
    {
        var response = await Post(body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await ProblemAsync(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal("urn:shortener:problem:invalid-field", problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_url_pointing_back_at_the_service_is_refused()
    {
        var response = await Post(JsonSerializer.Serialize(new { url = $"{_node.BaseUrl}/abc" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("redirect loop", (await ProblemAsync(response)).GetProperty("detail").GetString());
        var port = new Uri(_node.BaseUrl).Port;
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Post(JsonSerializer.Serialize(new { url = $"http://localhost:{port}/x" }))).StatusCode);
    }

    [Theory]
    [InlineData("{not json", "application/json", 400)]
    [InlineData("""{"url":"https://example.com","bogus":1}""", "application/json", 400)]
    [InlineData("""{"url":42}""", "application/json", 400)]
    [InlineData("""["https://example.com"]""", "application/json", 400)]
    [InlineData("null", "application/json", 400)]
    [InlineData("", "application/json", 400)]
    [InlineData("url=https://example.com", "application/x-www-form-urlencoded", 415)]
    [InlineData("""{"url":"https://example.com"}""", "text/plain", 415)]
    public async Task Unreadable_bodies_are_refused_with_a_problem(string body, string mediaType, int status)
    {
        var response = await _node.Client.PostAsync("/api/v1/links", TestNode.Json(body, mediaType));
        Assert.Equal(status, (int)response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Oversized_bodies_are_413()
    {
        var body = JsonSerializer.Serialize(new { url = "https://example.com/", title = new string('x', 70_000) });
        var response = await Post(body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("urn:shortener:problem:payload-too-large", (await ProblemAsync(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_body_without_a_declared_length_is_read_to_its_end_and_held_to_the_same_limit()
    {
        // No Content-Length: the body arrives chunked and is read through a pooled buffer.
        async Task<HttpResponseMessage> PostChunked(string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = new StringContent(json, new System.Net.Http.Headers.MediaTypeHeaderValue("application/json")) };
            request.Headers.TransferEncodingChunked = true;
            return await _node.Client.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.Created, (await PostChunked("""{"url":"https://example.com/chunked","alias":"chunked"}""")).StatusCode);

        var refused = await PostChunked(JsonSerializer.Serialize(new { url = "https://example.com/", title = new string('x', 70_000) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("urn:shortener:problem:payload-too-large", (await ProblemAsync(refused)).GetProperty("type").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await PostChunked(string.Empty)).StatusCode);
    }

    [Fact]
    public async Task Idempotent_retry_returns_the_first_response()
    {
        var first = await PostWithKey("retry-1", """{"url":"https://example.com/once"}""");
        var retry = await PostWithKey("retry-1", """{ "url" : "https://example.com/once" }""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());

        var list = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/links");
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422()
    {
        await PostWithKey("retry-2", """{"url":"https://example.com/one"}""");
        var other = await PostWithKey("retry-2", """{"url":"https://example.com/two"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal("urn:shortener:problem:idempotency-key-reused", (await ProblemAsync(other)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_retried_alias_conflict_stays_a_conflict_and_bad_keys_are_refused()
    {
        await Post("""{"url":"https://example.com","alias":"taken"}""");
        Assert.Equal(HttpStatusCode.Conflict, (await PostWithKey("k-conflict", """{"url":"https://x.example","alias":"taken"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostWithKey("k-conflict", """{"url":"https://x.example","alias":"taken"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostWithKey(new string('k', 300), """{"url":"https://x.example"}""")).StatusCode);
    }

    [Fact]
    public async Task Get_reads_a_link_without_a_key()
    {
        var code = await CreateAsync("""{"url":"https://example.com/get"}""");
        var link = await _node.Anonymous.GetFromJsonAsync<JsonElement>($"/api/v1/links/{code}");
        Assert.Equal("https://example.com/get", link.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _node.Anonymous.GetAsync("/api/v1/links/nope123")).StatusCode);
    }

    [Fact]
    public async Task Patch_changes_fields_and_null_removes_them()
    {
        var code = await CreateAsync("""{"url":"https://example.com/old","title":"Old","maxVisits":5,"expiresAt":"2030-06-01T00:00:00Z","tags":["a"]}""");
        _time.Advance(TimeSpan.FromMinutes(1));
        var response = await _node.Client.PatchAsync($"/api/v1/links/{code}", TestNode.Json("""{"url":"https://example.com/new","title":null,"maxVisits":null,"redirectStatus":308,"tags":["b","c"]}""", "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var link = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://example.com/new", link.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, link.GetProperty("title").ValueKind);
        Assert.Equal(JsonValueKind.Null, link.GetProperty("maxVisits").ValueKind);
        Assert.Equal("2030-06-01T00:00:00+00:00", link.GetProperty("expiresAt").GetString());
        Assert.Equal(308, link.GetProperty("redirectStatus").GetInt32());
        Assert.Equal(2, link.GetProperty("tags").GetArrayLength());
        Assert.NotEqual(link.GetProperty("createdAt").GetString(), link.GetProperty("updatedAt").GetString());

        var redirect = await _node.Anonymous.GetAsync($"/{code}");
        Assert.Equal(308, (int)redirect.StatusCode);
        Assert.Equal("https://example.com/new", redirect.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Patch_errors()
    {
        var code = await CreateAsync("""{"url":"https://example.com"}""");
        Assert.Equal(HttpStatusCode.NotFound, (await Patch("nope123", """{"title":"x"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Patch(code, "{}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Patch(code, """{"bogus":1}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Patch(code, "[1]")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Patch(code, """{"url":"javascript:x"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Patch(code, """{"url":null}""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Patch(code, """{"redirectStatus":200}""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Patch(code, """{"code":"other"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Patch(code, """{"expiresAt":"yesterday"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.PatchAsync($"/api/v1/links/{code}", TestNode.Json("""{"title":"x"}"""))).StatusCode);
        Assert.Equal("https://example.com", (await _node.Anonymous.GetAsync($"/{code}")).Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Delete_makes_the_link_gone_for_good()
    {
        var code = await CreateAsync("""{"url":"https://example.com","alias":"to-delete"}""");
        Assert.Equal(HttpStatusCode.NoContent, (await _node.Client.DeleteAsync($"/api/v1/links/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/{code}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await _node.Client.GetAsync($"/api/v1/links/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await Patch(code, """{"title":"x"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _node.Client.DeleteAsync($"/api/v1/links/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Post("""{"url":"https://example.com","alias":"to-delete"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _node.Client.DeleteAsync("/api/v1/links/nope123")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.DeleteAsync($"/api/v1/links/{code}")).StatusCode);
    }

    [Fact]
    public async Task Expired_links_answer_410()
    {
        var code = await CreateAsync("""{"url":"https://example.com","expiresAt":"2030-01-01T01:00:00Z"}""");
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
        _time.Advance(TimeSpan.FromHours(1));
        var gone = await _node.Anonymous.GetAsync($"/{code}");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Contains("expired", (await ProblemAsync(gone)).GetProperty("detail").GetString());
        var link = await _node.Client.GetFromJsonAsync<JsonElement>($"/api/v1/links/{code}");
        Assert.Equal("expired", link.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Links_stop_after_max_visits_and_head_does_not_count()
    {
        var code = await CreateAsync("""{"url":"https://example.com","maxVisits":2}""");
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/{code}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
        var gone = await _node.Anonymous.GetAsync($"/{code}");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Contains("visit limit", (await ProblemAsync(gone)).GetProperty("detail").GetString());
        var link = await _node.Client.GetFromJsonAsync<JsonElement>($"/api/v1/links/{code}");
        Assert.Equal(2, link.GetProperty("visits").GetInt64());
        Assert.Equal("exhausted", link.GetProperty("status").GetString());

        // Raising the limit brings it back.
        await Patch(code, """{"maxVisits":3}""");
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
    }

    [Fact]
    public async Task Concurrent_visits_never_exceed_the_limit()
    {
        var code = await CreateAsync("""{"url":"https://example.com","maxVisits":25}""");
        var statuses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => _node.Anonymous.GetAsync($"/{code}")));
        Assert.Equal(25, statuses.Count(s => s.StatusCode == HttpStatusCode.Found));
        Assert.Equal(75, statuses.Count(s => s.StatusCode == HttpStatusCode.Gone));
    }

    [Fact]
    public async Task List_pages_with_a_cursor_and_filters_by_tag()
    {
        var created = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(i % 2));
            created.Add(await CreateAsync(JsonSerializer.Serialize(new { url = $"https://example.com/{i}", tags = i % 5 == 0 ? new[] { "five" } : [] })));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/links?limit=10" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("code").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(created.Order(), seen.Order());
        Assert.Equal(25, seen.Distinct().Count());

        var tagged = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/links?tag=five");
        Assert.Equal(5, tagged.GetProperty("items").GetArrayLength());

        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.GetAsync("/api/v1/links?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.GetAsync("/api/v1/links?limit=abc")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.GetAsync("/api/v1/links?limit=5000")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.GetAsync("/api/v1/links?cursor=garbage!")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.GetAsync("/api/v1/links")).StatusCode);
    }

    [Fact]
    public async Task Concurrent_creates_get_distinct_codes()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => Post(JsonSerializer.Serialize(new { url = $"https://example.com/{i}" }))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var codes = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!));
        Assert.Equal(150, codes.Distinct().Count());
        foreach (var (code, i) in codes.Select((c, i) => (c, i)))
        {
            Assert.Equal($"https://example.com/{i}", (await _node.Anonymous.GetAsync($"/{code}")).Headers.Location!.OriginalString);
        }
    }

    [Fact]
    public async Task Auth_is_needed_for_writes_and_listing_only()
    {
        var noKey = await _node.Anonymous.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains("X-Api-Key", (await ProblemAsync(noKey)).GetProperty("detail").GetString());

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com"}""") };
        wrong.Headers.Add("X-Api-Key", "not-the-key-at-all");
        var wrongResponse = await _node.Anonymous.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal("urn:shortener:problem:unauthorized", (await ProblemAsync(wrongResponse)).GetProperty("type").GetString());

        var code = await CreateAsync("""{"url":"https://example.com"}""");
        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync($"/{code}")).StatusCode);
    }

    private async Task<HttpResponseMessage> Post(string body) => await _node.Client.PostAsync("/api/v1/links", TestNode.Json(body));

    private async Task<HttpResponseMessage> PostWithKey(string key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await _node.Client.SendAsync(request);
    }

    private async Task<HttpResponseMessage> Patch(string code, string body) =>
        await _node.Client.PatchAsync($"/api/v1/links/{code}", TestNode.Json(body, "application/merge-patch+json"));

    private async Task<string> CreateAsync(string body)
    {
        var response = await Post(body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Listing merges the shards' pages: paging must be exact whether the links share a shard or not.</summary>
    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    public async Task Pages_walk_every_link_once_newest_first(bool sameShard, int limit)
    {
        var router = _node.Services.GetRequiredService<Shortener.Node.Links.LinkService>().Shards.Router;
        var aliases = Enumerable.Range(0, 400).Select(i => $"page-{i}")
            .Where(a => !sameShard || router.ShardOf(a) == router.ShardOf("page-0"))
            .Take(7)
            .ToList();
        if (!sameShard)
        {
            Assert.True(aliases.Select(router.ShardOf).Distinct().Count() > 3, "the aliases should spread over shards");
        }

        foreach (var alias in aliases)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var created = await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = $"https://example.com/{alias}", alias });
            created.EnsureSuccessStatusCode();
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _node.Client.GetFromJsonAsync<JsonElement>($"/api/v1/links?limit={limit}" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}"));
            var items = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("code").GetString()!).ToList();
            Assert.InRange(items.Count, 1, limit);
            seen.AddRange(items);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        aliases.Reverse();
        Assert.Equal(aliases, seen);
    }
}
