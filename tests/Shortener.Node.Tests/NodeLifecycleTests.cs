using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Node.Hosting;
using Shortener.Node.Security;

namespace Shortener.Node.Tests;

[Collection(ProcessWideMetrics.Name)]
public sealed class NodeLifecycleTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_node_reads_appsettings_once_and_does_not_watch_the_working_directory()
    {
        // A watched appsettings.json puts a recursive inotify watch on the working directory, which
        // holds the default data dir: every WAL and database write would then wake the watcher.
        var builder = ShortenerNodeApp.CreateBuilder([]);
        var json = ((IConfigurationBuilder)builder.Configuration).Sources.OfType<JsonConfigurationSource>().ToList();
        Assert.NotEmpty(json);
        Assert.All(json, source => Assert.False(source.ReloadOnChange, $"{source.Path} is watched"));
    }

    [Fact]
    public async Task A_restart_on_the_same_data_dir_keeps_links_keys_and_idempotency()
    {
        string code, aliasCode, firstBody;
        var settings = new Dictionary<string, string?> { ["Shortener:PublicBaseUrl"] = "https://sho.rt" };
        await using (var node = await TestNode.StartAsync(_dir.Path, settings))
        {
            code = await CreateAsync(node, """{"url":"https://example.com/kept"}""");
            aliasCode = await CreateAsync(node, """{"url":"https://example.com/alias","alias":"survivor","maxVisits":3}""");
            Assert.Equal(HttpStatusCode.Found, (await node.Anonymous.GetAsync("/survivor")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com/idem"}""") };
            request.Headers.Add("Idempotency-Key", "across-restart");
            firstBody = await (await node.Client.SendAsync(request)).Content.ReadAsStringAsync();
        }

        await using (var node = await TestNode.StartAsync(_dir.Path, settings))
        {
            var redirect = await node.Anonymous.GetAsync($"/{code}");
            Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
            Assert.Equal("https://example.com/kept", redirect.Headers.Location!.OriginalString);
            var alias = await node.Client.GetFromJsonAsync<JsonElement>($"/api/v1/links/{aliasCode}");
            Assert.Equal(1, alias.GetProperty("visits").GetInt64());

            using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com/idem"}""") };
            retry.Headers.Add("Idempotency-Key", "across-restart");
            var replay = await node.Client.SendAsync(retry);
            Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
            Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());

            // New codes after the restart do not collide with the old ones.
            var fresh = await CreateAsync(node, """{"url":"https://example.com/after"}""");
            Assert.NotEqual(code, fresh);
            var list = await node.Client.GetFromJsonAsync<JsonElement>("/api/v1/links");
            Assert.Equal(4, list.GetProperty("items").GetArrayLength());
        }
    }

    [Fact]
    public async Task Without_a_configured_key_one_is_generated_once_stored_hashed_and_kept()
    {
        string generated;
        await using (var node = await TestNode.StartAsync(_dir.Path, withKey: false))
        {
            generated = node.Services.GetRequiredService<ApiKeyRegistry>().GeneratedKey!;
            Assert.NotNull(generated);
            var file = Path.Combine(_dir.Path, "api-key");
            Assert.Equal(generated, File.ReadAllText(file).Trim());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            // The database holds only the hash.
            var db = await File.ReadAllBytesAsync(Path.Combine(_dir.Path, "node.db"));
            var wal = File.Exists(Path.Combine(_dir.Path, "node.db-wal")) ? await File.ReadAllBytesAsync(Path.Combine(_dir.Path, "node.db-wal")) : [];
            var needle = System.Text.Encoding.UTF8.GetBytes(generated);
            Assert.False(db.AsSpan().IndexOf(needle) >= 0 || wal.AsSpan().IndexOf(needle) >= 0, "the key itself was stored");

            Assert.Equal(HttpStatusCode.Created, (await PostWithKey(node, generated)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostWithKey(node, TestNode.Key)).StatusCode);
        }

        await using (var node = await TestNode.StartAsync(_dir.Path, withKey: false))
        {
            Assert.Null(node.Services.GetRequiredService<ApiKeyRegistry>().GeneratedKey);
            Assert.Equal(HttpStatusCode.Created, (await PostWithKey(node, generated)).StatusCode);
        }
    }

    [Fact]
    public async Task Writes_are_rate_limited_per_key_with_retry_after()
    {
        await using var node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
        {
            ["Shortener:RateLimits:PerKeyPerSecond"] = "1",
            ["Shortener:RateLimits:PerKeyBurst"] = "3",
            ["Shortener:RateLimits:PerIpPerSecond"] = "0",
        });
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            var response = await node.Client.PostAsync("/api/v1/links", TestNode.Json($$"""{"url":"https://example.com/{{i}}"}"""));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        // A burst of 3, plus one token per second the loop took (a slow machine earns more).
        var allowed = 3 + (int)clock.Elapsed.TotalSeconds;
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.Created), 3, allowed);
        Assert.NotNull(limited);
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var problem = await LinkApiTests.ProblemAsync(limited);
        Assert.Equal("urn:shortener:problem:rate-limited", problem.GetProperty("type").GetString());

        // Reads and redirects are not limited.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await node.Client.GetAsync("/api/v1/links")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await node.Anonymous.GetAsync("/nope123")).StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(HttpStatusCode.Created, (await node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com/later"}"""))).StatusCode);
    }

    [Fact]
    public async Task Writes_without_a_valid_key_are_limited_per_ip_in_a_bucket_that_keys_do_not_share()
    {
        await using var node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
        {
            ["Shortener:RateLimits:PerKeyPerSecond"] = "0",
            ["Shortener:RateLimits:PerIpPerSecond"] = "1",
            ["Shortener:RateLimits:PerIpBurst"] = "2",
        });
        var statuses = new List<HttpStatusCode>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await node.Anonymous.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""))).StatusCode);
        }

        // The per-IP bucket (burst 2, then 1/s) is spent before authentication even looks at the key.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], statuses.Take(2));
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.Unauthorized), 2, 2 + (int)clock.Elapsed.TotalSeconds);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);

        // Unauthenticated requests spend a bucket of their own: a valid key from the same address,
        // limited per key (here not at all), is not refused for what they used up.
        var withKey = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            withKey.Add((await node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""))).StatusCode);
        }

        Assert.All(withKey, s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await node.Anonymous.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""))).StatusCode);
    }

    [Fact]
    public async Task Reads_without_a_key_are_local_limited_per_client_and_only_trusted_proxies_name_the_client()
    {
        await using var node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
        {
            ["Shortener:RateLimits:AnonymousReadsPerSecond"] = "1",
            ["Shortener:RateLimits:AnonymousReadsBurst"] = "2",
            ["Shortener:TrustedProxies:0"] = "127.0.0.0/8",
        });
        var code = await CreateAsync(node, """{"url":"https://example.com/read"}""");

        // Linearizable needs a key; without one the read is local.
        var linearizable = await node.Anonymous.GetAsync($"/api/v1/links/{code}?consistency=linearizable");
        Assert.Equal(HttpStatusCode.Unauthorized, linearizable.StatusCode);
        Assert.Contains("needs an API key", (await LinkApiTests.ProblemAsync(linearizable)).GetProperty("detail").GetString());

        // Each forwarded client has its own bucket (burst 2): the third read of one is refused, the other's still pass.
        async Task<HttpStatusCode> ReadAs(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/links/{code}");
            request.Headers.Add("X-Forwarded-For", client);
            return (await node.Anonymous.SendAsync(request)).StatusCode;
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], [await ReadAs("203.0.113.7"), await ReadAs("203.0.113.7"), await ReadAs("203.0.113.7")]);
        Assert.Equal(HttpStatusCode.OK, await ReadAs("198.51.100.9"));

        // A key's reads, and redirects, are not limited.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await node.Client.GetAsync($"/api/v1/links/{code}")).StatusCode);
            Assert.Equal(HttpStatusCode.Found, (await node.Anonymous.GetAsync($"/{code}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_trusted_proxy_that_is_neither_an_address_nor_a_network_stops_the_start_with_the_reason()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:TrustedProxies:0"] = "proxy.internal" }));
        Assert.Contains("Shortener:TrustedProxies: 'proxy.internal' is neither an IP address nor a CIDR network", error.Message);
    }

    [Fact]
    public async Task X_forwarded_for_from_an_untrusted_address_is_ignored()
    {
        await using var node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
        {
            ["Shortener:RateLimits:AnonymousReadsPerSecond"] = "1",
            ["Shortener:RateLimits:AnonymousReadsBurst"] = "2",
        });
        var code = await CreateAsync(node, """{"url":"https://example.com/spoof"}""");
        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { "203.0.113.1", "203.0.113.2", "203.0.113.3" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/links/{code}");
            request.Headers.Add("X-Forwarded-For", client);
            statuses.Add((await node.Anonymous.SendAsync(request)).StatusCode);
        }

        // Loopback is not a configured proxy: the header picks no bucket, all three share one.
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[2]);
    }

    [Fact]
    public async Task Operations_endpoints_answer()
    {
        await using var node = await TestNode.StartAsync(_dir.Path);
        var code = await CreateAsync(node, """{"url":"https://example.com/m"}""");
        for (var i = 0; i < 32; i++)
        {
            await node.Anonymous.GetAsync($"/{code}");
        }

        await node.Anonymous.GetAsync("/missing1");

        Assert.Equal("ok\n", await node.Anonymous.GetStringAsync("/healthz"));
        Assert.Equal("ready\n", await node.Anonymous.GetStringAsync("/readyz"));

        var metrics = await node.Anonymous.GetStringAsync("/metrics");
        Assert.Contains("shortener_links_created_total", metrics);
        Assert.Contains("shortener_redirects_total{otel_scope_name=\"Shortener\",status=\"302\"} 32", metrics);
        Assert.Contains("shortener_redirects_total{otel_scope_name=\"Shortener\",status=\"404\"} 1", metrics);
        Assert.Contains("http_server_request_duration_seconds_bucket", metrics);
        Assert.Contains("shortener_storage_commit_batch_size", metrics);
        Assert.Contains("shortener_redirect_duration_seconds_count{otel_scope_name=\"Shortener\",status=\"302\"} 2", metrics);
        Assert.DoesNotContain("http_server_active_requests", metrics);

        // .NET's runtime meter: what a stall that is neither disk nor Raft shows first.
        Assert.Contains("dotnet_thread_pool_queue_length", metrics);
        Assert.Contains("dotnet_gc_pause_time_seconds_total", metrics);
        Assert.Contains("dotnet_monitor_lock_contentions_total", metrics);

        var openApi = await node.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/links", out var links));
        Assert.True(links.TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.TryGetProperty("/api/v1/links/{code}", out var one));
        Assert.True(one.TryGetProperty("patch", out _));
        Assert.True(one.TryGetProperty("delete", out _));

        var notFound = await node.Anonymous.GetAsync("/no/such/path");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await node.Anonymous.PutAsync("/api/v1/links", TestNode.Json("{}"))).StatusCode);
    }

    [Fact]
    public async Task Readiness_fails_when_the_database_file_is_gone()
    {
        await using var node = await TestNode.StartAsync(_dir.Path);
        Assert.Equal(HttpStatusCode.OK, (await node.Anonymous.GetAsync("/readyz")).StatusCode);
        File.Move(Path.Combine(_dir.Path, "node.db"), Path.Combine(_dir.Path, "node.db.moved"));
        var response = await node.Anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("urn:shortener:problem:not-ready", (await LinkApiTests.ProblemAsync(response)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.OK, (await node.Anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task A_damaged_database_stops_the_start_with_a_clear_error()
    {
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "node.db"), Enumerable.Repeat((byte)0x42, 10_000).ToArray());
        var error = await Assert.ThrowsAsync<Storage.StorageException>(() => TestNode.StartAsync(_dir.Path));
        Assert.Contains("node.db", error.Message);
    }

    [Fact]
    public async Task A_data_dir_from_the_single_node_layout_is_refused_and_left_alone()
    {
        var legacy = Path.Combine(_dir.Path, "links.db");
        await File.WriteAllTextAsync(legacy, "old links");
        var error = await Assert.ThrowsAsync<Storage.StorageException>(() => TestNode.StartAsync(_dir.Path));
        Assert.Contains("before link data was sharded", error.Message);
        Assert.Equal("old links", await File.ReadAllTextAsync(legacy));
    }

    [Fact]
    public async Task Shard_data_without_its_topology_and_a_whole_clusters_data_dir_are_refused()
    {
        await using (await TestNode.StartAsync(_dir.Path))
        {
        }

        File.Delete(Path.Combine(_dir.Path, "cluster.json"));
        var error = await Assert.ThrowsAsync<Storage.StorageException>(() => TestNode.StartAsync(_dir.Path));
        Assert.Contains("holds shard data but no cluster.json", error.Message);

        using var clusterRoot = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(clusterRoot.Path, "node-1"));
        await File.WriteAllTextAsync(Path.Combine(clusterRoot.Path, "cluster-secret"), "s");
        error = await Assert.ThrowsAsync<Storage.StorageException>(() => TestNode.StartAsync(clusterRoot.Path));
        Assert.Contains("data dir of a whole cluster", error.Message);
    }

    [Fact]
    public async Task A_node_that_is_not_a_member_of_its_cluster_refuses_to_start()
    {
        await using (await TestNode.StartAsync(_dir.Path))
        {
        }

        var error = await Assert.ThrowsAsync<Storage.StorageException>(() => TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:Cluster:NodeId"] = "7" }));
        Assert.Contains("node 7 is not a member", error.Message);
    }

    private static async Task<HttpResponseMessage> PostWithKey(TestNode node, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com"}""") };
        request.Headers.Add("X-Api-Key", key);
        return await node.Anonymous.SendAsync(request);
    }

    private static async Task<string> CreateAsync(TestNode node, string body)
    {
        var response = await node.Client.PostAsync("/api/v1/links", TestNode.Json(body));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
    }
}

public sealed class ApiKeyConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_configured_key_shorter_than_16_characters_stops_the_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:ApiKey"] = "too-short" }));
        Assert.Contains("at least 16 characters", error.Message);
    }
}
