using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Node.Api;
using Shortener.Node.Security;

namespace Shortener.Node.Tests;

/// <summary>API keys with roles (issue 16, part 3): made, listed and revoked through shard 0, and each role held to its endpoints.</summary>
public sealed class ApiKeyRoleTests : NodeTest
{
    [Fact]
    public async Task Keys_are_made_listed_and_revoked_and_each_role_does_what_it_may()
    {
        var links = await CreateKeyAsync("marketing", "links");
        var reader = await CreateKeyAsync("reports", "read-only");
        Assert.StartsWith("sk_", links.Key);
        Assert.NotEqual(links.Id, reader.Id);

        using var asLinks = Client(links.Key!);
        using var asReader = Client(reader.Key!);
        var created = await asLinks.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/roles","alias":"by-links-key"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asReader.GetAsync("/api/v1/links/by-links-key")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asReader.GetAsync("/api/v1/links")).StatusCode);
        await AssertProblemAsync(await asReader.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/no"}""")), 403, "forbidden");
        await AssertProblemAsync(await asReader.DeleteAsync("/api/v1/links/by-links-key"), 403, "forbidden");
        await AssertProblemAsync(await asLinks.GetAsync("/admin/v1/keys"), 403, "forbidden");

        // The list shows every key once, never a hash or a key, and this node's bootstrap key.
        var listText = await Node.Client.GetStringAsync("/admin/v1/keys");
        Assert.DoesNotContain(links.Key!, listText);
        Assert.DoesNotContain(ApiKeyRegistry.Hash(links.Key!), listText);
        var list = JsonSerializer.Deserialize<KeyListResponse>(listText, JsonSerializerOptions.Web)!;
        Assert.Equal(2, list.Version);
        Assert.Equal(["marketing", "reports"], list.Keys.Where(k => !k.Bootstrap).Select(k => k.Name));
        Assert.Contains(list.Keys, k => k.Bootstrap && k.Role == "admin");

        // Revoked, the key is refused at once; revoking again changes nothing.
        var revoked = await Node.Client.DeleteAsync($"/admin/v1/keys/{links.Id}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.NotNull((await revoked.Content.ReadFromJsonAsync<KeyView>())!.RevokedAt);
        await AssertProblemAsync(await asLinks.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/late"}""")), 401, "unauthorized");
        Assert.Equal(HttpStatusCode.OK, (await Node.Client.DeleteAsync($"/admin/v1/keys/{links.Id}")).StatusCode);
        Assert.Equal(3, (await Node.Client.GetFromJsonAsync<KeyListResponse>("/admin/v1/keys"))!.Version);
        Assert.NotNull((await Node.Client.GetFromJsonAsync<KeyView>($"/admin/v1/keys/{links.Id}"))!.RevokedAt);
        await AssertProblemAsync(await Node.Client.GetAsync("/admin/v1/keys/key-nothing"), 404, "no-such-key");
    }

    [Fact]
    public async Task A_links_key_with_an_owner_sees_and_changes_only_its_owners_links()
    {
        var teamA = await CreateKeyAsync("a", "links", owner: "team-a");
        var teamA2 = await CreateKeyAsync("a again", "links", owner: "team-a");
        var teamB = await CreateKeyAsync("b", "links", owner: "team-b");
        using var asA = Client(teamA.Key!);
        using var asA2 = Client(teamA2.Key!);
        using var asB = Client(teamB.Key!);
        Assert.Equal(HttpStatusCode.Created, (await asA.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/a","alias":"team-a-link"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/admin","alias":"admin-link"}"""))).StatusCode);

        // Another owner's key meets the link as if it were not there; the same owner's other key sees it.
        await AssertProblemAsync(await asB.GetAsync("/api/v1/links/team-a-link"), 404, "not-found");
        await AssertProblemAsync(await asB.PatchAsync("/api/v1/links/team-a-link", TestNode.Json("""{"title":"mine now"}""", "application/merge-patch+json")), 404, "not-found");
        await AssertProblemAsync(await asB.DeleteAsync("/api/v1/links/team-a-link"), 404, "not-found");
        await AssertProblemAsync(await asB.GetAsync("/api/v1/links/team-a-link/stats"), 404, "not-found");
        await AssertProblemAsync(await asB.GetAsync("/api/v1/stats/summary"), 403, "forbidden");
        Assert.DoesNotContain("team-a-link", await asB.GetStringAsync("/api/v1/links"));
        Assert.Equal(HttpStatusCode.OK, (await asA2.GetAsync("/api/v1/links/team-a-link")).StatusCode);
        var listedForA = await asA.GetStringAsync("/api/v1/links");
        Assert.Contains("team-a-link", listedForA);
        Assert.DoesNotContain("admin-link", listedForA);
        await AssertProblemAsync(await asA.GetAsync("/api/v1/links/admin-link"), 404, "not-found");

        Assert.Equal(HttpStatusCode.OK, (await asA2.PatchAsync("/api/v1/links/team-a-link", TestNode.Json("""{"title":"ours"}""", "application/merge-patch+json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await asA2.DeleteAsync("/api/v1/links/team-a-link")).StatusCode);
        Assert.Contains("admin-link", await Node.Client.GetStringAsync("/api/v1/links"));
    }

    [Fact]
    public async Task Keys_survive_a_restart_and_an_older_or_unreadable_list_never_replaces_the_applied_one()
    {
        var links = await CreateKeyAsync("kept", "links");
        await Node.DisposeAsync();
        Node = await TestNode.StartAsync(Dir.Path);
        using (var asLinks = Client(links.Key!))
        {
            Assert.Equal(HttpStatusCode.OK, (await asLinks.GetAsync("/api/v1/links")).StatusCode);
        }

        var registry = Node.Services.GetRequiredService<ApiKeyRegistry>();
        var (version, list) = registry.Cluster;
        Assert.Equal(1, version);
        registry.Adopt(ApiKeyList.Empty.Serialize(), 1);
        registry.Adopt("{not json", 2);
        Assert.Equal(ApiKeyRole.Links, registry.Identify(links.Key)!.Role);
        Assert.Same(list, registry.Cluster.List);

        // Readable but wrong: two keys with one hash, a key without a hash, a role nobody knows.
        // Neither of the twins is taken, nothing throws (it runs inside shard 0's apply).
        var hash = ApiKeyRegistry.Hash("sk_twin");
        registry.Adopt(
            $$"""{"keys":[{"id":"a","name":"a","role":"links","hash":"{{hash}}","createdAt":1},{"id":"b","name":"b","role":"admin","hash":"{{hash}}","createdAt":1},{"id":"c","name":"c","role":"links","createdAt":1},{"id":"d","name":"d","role":"root","hash":"{{ApiKeyRegistry.Hash("sk_root")}}","createdAt":1}]}""",
            3);
        Assert.Equal(3, registry.Cluster.Version);
        Assert.Null(registry.Identify("sk_twin"));
        Assert.Null(registry.Identify("sk_root"));
        Assert.Null(registry.Identify(links.Key));
    }

    [Fact]
    public async Task Bad_key_requests_are_refused_with_problems_and_change_nothing()
    {
        await AssertProblemAsync(await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = "x", role = "root" }), 422, "invalid-field");
        await AssertProblemAsync(await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { role = "links" }), 422, "invalid-field");
        await AssertProblemAsync(await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = new string('n', 65), role = "links" }), 422, "invalid-field");
        await AssertProblemAsync(await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = "x", role = "admin", owner = "team" }), 422, "invalid-field");
        await AssertProblemAsync(await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name = "x", role = "links", owner = "no spaces" }), 422, "invalid-field");
        await AssertProblemAsync(await Node.Client.PostAsync("/admin/v1/keys", TestNode.Json("""{"name":"x","role":"links","extra":1}""")), 400, "malformed-request");
        await AssertProblemAsync(await Node.Client.DeleteAsync("/admin/v1/keys/key-nothing"), 404, "no-such-key");

        var bootstrap = Node.Services.GetRequiredService<ApiKeyRegistry>().BootstrapIds.Single();
        await AssertProblemAsync(await Node.Client.DeleteAsync($"/admin/v1/keys/{bootstrap}"), 409, "key-conflict");
        Assert.Equal(0, (await Node.Client.GetFromJsonAsync<KeyListResponse>("/admin/v1/keys"))!.Version);
    }

    /// <summary>
    /// Walks every endpoint the node maps, so a new endpoint without a policy fails here instead of
    /// falling open: a links key gets 403 on every admin route, a read-only key 403 on every write.
    /// </summary>
    [Fact]
    public async Task Every_admin_route_refuses_a_links_key_and_every_write_refuses_a_read_only_key()
    {
        var links = await CreateKeyAsync("walker", "links");
        var reader = await CreateKeyAsync("walker-ro", "read-only");
        using var asLinks = Client(links.Key!);
        using var asReader = Client(reader.Key!);

        var routes = Node.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Endpoint: e)))
            .ToList();
        var admin = routes.Where(r => r.Endpoint.RoutePattern.RawText!.StartsWith("/admin/", StringComparison.Ordinal) || r.Endpoint.RoutePattern.RawText == "/dashboard").ToList();
        var writes = routes.Where(r => (r.Endpoint.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) || r.Endpoint.RoutePattern.RawText!.StartsWith("/rest/", StringComparison.Ordinal))
            && r.Method is not ("GET" or "HEAD")).ToList();

        // An endpoint without a policy is open to anyone: only these may be.
        string[] open = ["/healthz", "/readyz", "/metrics", "/openapi/{documentName}.json", "/app", "/app/{**rest}", "/rest/health", "/rest/v3/health", "/rest/v3/short-urls/shorten", "/api/v1/links/{code}", "/robots.txt"];
        Assert.All(
            routes.Where(r => Policy(r.Endpoint) is null && r.Endpoint.Metadata.GetMetadata<IAuthorizeData>() is null),
            r => Assert.Contains(r.Endpoint.RoutePattern.RawText, open));

        // And one that needs a key names the least role it needs (the default policy takes any key).
        Assert.All(routes.Where(r => r.Endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null), r => Assert.NotNull(Policy(r.Endpoint)));
        Assert.True(admin.Count >= 11, $"only {admin.Count} admin routes found");
        Assert.True(writes.Count >= 13, $"only {writes.Count} writes found");

        foreach (var (method, endpoint) in admin)
        {
            Assert.Equal(ApiKeyPolicies.Admin, Policy(endpoint));
            await AssertProblemAsync(await asLinks.SendAsync(Request(method, endpoint)), 403, "forbidden", $"{method} {endpoint.RoutePattern.RawText}");
        }

        foreach (var (method, endpoint) in writes)
        {
            Assert.Contains(Policy(endpoint), new[] { ApiKeyPolicies.Links, ApiKeyPolicies.Admin });
            await AssertProblemAsync(await asReader.SendAsync(Request(method, endpoint)), 403, "forbidden", $"{method} {endpoint.RoutePattern.RawText}");
        }
    }

    private static string? Policy(Endpoint endpoint) => endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault()?.Policy;

    private static HttpRequestMessage Request(string method, RouteEndpoint endpoint)
    {
        var path = string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "shard" or "id" } => "1",
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart => "abc",
            _ => string.Empty,
        }))));
        return new HttpRequestMessage(new HttpMethod(method), "/" + path) { Content = method is "GET" or "HEAD" or "DELETE" ? null : TestNode.Json("{}") };
    }

    private async Task<KeyView> CreateKeyAsync(string name, string role, string? owner = null)
    {
        var response = await Node.Client.PostAsJsonAsync("/admin/v1/keys", new { name, role, owner });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<KeyView>())!;
        Assert.Equal($"/admin/v1/keys/{key.Id}", response.Headers.Location!.OriginalString);
        return key;
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(Node.BaseUrl) };
        client.DefaultRequestHeaders.Add(ApiKeyRegistry.HeaderName, key);
        return client;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string slug, string? what = null)
    {
        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} instead of {status}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:shortener:problem:" + slug, problem.RootElement.GetProperty("type").GetString());
    }
}
