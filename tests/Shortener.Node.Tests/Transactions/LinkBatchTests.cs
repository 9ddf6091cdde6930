using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Core.Links;
using Shortener.Node.Shards;

namespace Shortener.Node.Tests.Transactions;

/// <summary>POST /api/v1/links/batch on one node of four shards: atomic batches all or none, others item by item, bad input refused whole.</summary>
public sealed class LinkBatchTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:Cluster:Shards"] = "4" });

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    private Task<HttpResponseMessage> BatchAsync(bool atomic, IEnumerable<object> links) =>
        _node.Client.PostAsJsonAsync("/api/v1/links/batch", new { atomic, links });

    private async Task<HttpStatusCode> GetAsync(string code) => (await _node.Client.GetAsync($"/api/v1/links/{code}")).StatusCode;

    [Fact]
    public async Task An_atomic_batch_creates_every_link_across_shards_with_aliases_and_drawn_codes()
    {
        var links = Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? (object)new { url = $"https://example.com/{i}", alias = $"batch-{i}" } : new { url = $"https://example.com/{i}" });
        var response = await BatchAsync(atomic: true, links);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(20, body.GetProperty("created").GetInt32());
        var codes = body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("link").GetProperty("code").GetString()!).ToList();
        Assert.Equal(20, codes.Distinct().Count());
        Assert.Equal("batch-0", codes[0]);
        foreach (var code in codes)
        {
            Assert.Equal(HttpStatusCode.OK, await GetAsync(code));
        }
    }

    [Fact]
    public async Task One_taken_alias_fails_an_atomic_batch_and_the_problem_lists_each_conflict()
    {
        foreach (var taken in new[] { "taken-1", "taken-2" })
        {
            Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/t", alias = taken })).StatusCode);
        }

        var links = new[] { "fresh-1", "taken-1", "fresh-2", "taken-2" }.Select(a => new { url = "https://example.com/" + a, alias = a });
        var response = await BatchAsync(atomic: true, links);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:batch-conflict", problem.GetProperty("type").GetString());
        Assert.Equal(["taken-1", "taken-2"], problem.GetProperty("conflicts").EnumerateArray().Select(c => c.GetProperty("alias").GetString()).Order());
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("fresh-1"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("fresh-2"));
    }

    [Fact]
    public async Task Without_atomic_each_link_succeeds_or_fails_on_its_own()
    {
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/t", alias = "each-taken" })).StatusCode);
        var response = await BatchAsync(atomic: false, new[] { "each-1", "each-taken", "each-2" }.Select(a => new { url = "https://example.com/" + a, alias = a }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, body.GetProperty("created").GetInt32());
        Assert.Equal([201, 409, 201], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("status").GetInt32()));
        Assert.Equal("urn:shortener:problem:alias-taken", body.GetProperty("items")[1].GetProperty("problem").GetString());
        Assert.Equal(HttpStatusCode.OK, await GetAsync("each-2"));
    }

    [Theory]
    [InlineData("over")]
    [InlineData("empty")]
    [InlineData("twice")]
    [InlineData("bad-url")]
    [InlineData("not-an-object")]
    public async Task Bad_input_is_refused_whole_with_each_item_named_and_nothing_created(string what)
    {
        object[] links = what switch
        {
            "over" => [.. Enumerable.Range(0, 1001).Select(i => new { url = "https://example.com/x" })],
            "empty" => [],
            "twice" => [new { url = "https://example.com/a", alias = "bad-twice" }, new { url = "https://example.com/b", alias = "bad-ok" }, new { url = "https://example.com/c", alias = "bad-twice" }],
            "bad-url" => [new { url = "https://example.com/a", alias = "bad-ok" }, new { url = "ftp://example.com/a", alias = "bad-url" }],
            _ => [new { url = "https://example.com/a", alias = "bad-ok" }, 42],
        };
        var response = await BatchAsync(atomic: true, links);

        // A value of the wrong type is a body that cannot be read (400), as for a single create; the rest break a rule (422).
        var unreadable = what == "not-an-object";
        Assert.Equal(unreadable ? HttpStatusCode.BadRequest : HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(unreadable ? "urn:shortener:problem:malformed-request" : "urn:shortener:problem:invalid-field", problem.GetProperty("type").GetString());
        if (what is "twice" or "bad-url")
        {
            Assert.Single(problem.GetProperty("items").EnumerateArray());
            Assert.Contains(what == "twice" ? "more than once" : "http", problem.GetProperty("items")[0].GetProperty("error").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("bad-ok"));
    }

    /// <summary>Has a transaction that never decides hold an intent to create <paramref name="code"/> (for a minute).</summary>
    private async Task HoldAsync(string code, string transaction)
    {
        var shards = _node.Services.GetRequiredService<ShardHost>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var create = new CreateLink(now, code, "https://example.com/" + code, null, null, 302, [], null);
        var prepared = await shards.For(code).ProposeAsync(new LinkCommandEnvelope(new PrepareIntents(now, transaction, shards.Router.ShardOf(code), now + 60_000, [create])), CancellationToken.None);
        Assert.Equal(CommandOutcome.Ok, prepared.Outcome);
    }

    [Fact]
    public async Task A_link_a_transaction_holds_fails_an_atomic_batch_and_only_its_own_item_in_another()
    {
        await HoldAsync("held-b", "t-held-b");
        var atomic = await BatchAsync(atomic: true, new[] { "free-1", "held-b" }.Select(a => new { url = "https://example.com/" + a, alias = a }));
        Assert.Equal(HttpStatusCode.Conflict, atomic.StatusCode);
        var problem = await atomic.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:batch-conflict", problem.GetProperty("type").GetString());
        Assert.Contains("t-held-b", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("free-1"));

        var each = await BatchAsync(atomic: false, new[] { "free-2", "held-b" }.Select(a => new { url = "https://example.com/" + a, alias = a }));
        var items = (await each.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items");
        Assert.Equal([201, 409], items.EnumerateArray().Select(i => i.GetProperty("status").GetInt32()));
        Assert.Equal("urn:shortener:problem:locked", items[1].GetProperty("problem").GetString());
        Assert.Equal(HttpStatusCode.OK, await GetAsync("free-2"));
    }

    [Fact]
    public async Task A_write_to_a_link_a_transaction_holds_is_refused_with_409_locked()
    {
        await HoldAsync("held", "t-held");
        var response = await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/other", alias = "held" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:locked", problem.GetProperty("type").GetString());
        Assert.Equal("t-held", problem.GetProperty("transaction").GetString());
        Assert.Equal("1", response.Headers.RetryAfter!.ToString());
    }
}
