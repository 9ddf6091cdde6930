using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Shortener.Core.Changes;
using Shortener.Node.Changes;
using Shortener.Node.Sinks;
using StackExchange.Redis;

namespace Shortener.Node.Tests.Sinks;

/// <summary>Sinks against a real redis-server and a loopback webhook receiver (docs/cdc.md).</summary>
public sealed class SinkTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly CapturingLoggerProvider _logs = new();
    private RedisServer? _redis;
    private TestNode? _node;

    private TestNode Node => _node!;

    private RedisServer Redis => _redis!;

    public async Task InitializeAsync()
    {
        if (RedisServer.Unavailable is null)
        {
            _redis = await RedisServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        _dir.Dispose();
    }

    private async Task StartNodeAsync(Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Logging:LogLevel:Shortener"] = "Information";
        settings["Shortener:Sinks:BackoffBaseMs"] = "20";
        settings["Shortener:Sinks:BackoffMaxMs"] = "200";
        _node = await TestNode.StartAsync(_dir.Path, settings, configure: b => b.Logging.AddProvider(_logs));
    }

    private async Task<JsonElement> AddSinkAsync(string body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await Node.Client.PostAsync("/admin/v1/sinks", TestNode.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<List<string>> CreateLinksAsync(int count, string prefix)
    {
        var codes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var response = await Node.Client.PostAsync("/api/v1/links", TestNode.Json($$"""{"url":"https://example.com/{{prefix}}/{{i}}","alias":"{{prefix}}-{{i}}"}"""));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            codes.Add($"{prefix}-{i}");
        }

        return codes;
    }

    /// <summary>Every event id of the change feed, in the feed's order.</summary>
    private async Task<List<string>> FeedIdsAsync()
    {
        var page = await Node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?limit=1000");
        return [.. page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!)];
    }

    private static async Task<StreamEntry[]> WaitForStreamAsync(IDatabase database, string stream, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var entries = await database.StreamRangeAsync(stream);
            if (entries.Length >= count || DateTime.UtcNow > deadline)
            {
                return entries;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The stream's event ids, checking each shard's come in strictly rising offsets (no repeat, no reorder).</summary>
    private static List<string> IdsInShardOrder(StreamEntry[] entries)
    {
        var ids = entries.Select(e => (string)e["id"]!).ToList();
        foreach (var shard in ids.Select(Parse).GroupBy(o => o.Shard))
        {
            var offsets = shard.ToList();
            Assert.Equal(offsets.OrderBy(o => o).Distinct(), offsets);
        }

        return ids;
    }

    /// <summary>Polls a sink's status until its lag satisfies <paramref name="until"/> (10 s at most), and returns it.</summary>
    private async Task<JsonElement> WaitForLagAsync(string sink, Func<int, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement status;
        do
        {
            await Task.Delay(100);
            status = (await Node.Client.GetFromJsonAsync<JsonElement>($"/admin/v1/sinks/{sink}/status"))[0];
        }
        while (!until(status.GetProperty("lagEvents").GetInt32()) && DateTime.UtcNow < deadline);

        Assert.True(until(status.GetProperty("lagEvents").GetInt32()), $"lag {status.GetProperty("lagEvents")}");
        return status;
    }

    private static ChangeOffset Parse(string id)
    {
        var parts = id.Split('-');
        return new ChangeOffset(int.Parse(parts[1]), ulong.Parse(parts[2]), int.Parse(parts[3]));
    }

    [SkippableFact]
    public async Task A_redis_sink_gets_every_change_event_once_in_each_shards_order_with_the_feeds_ids()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await StartNodeAsync(new() { ["Shortener:Cluster:Shards"] = "4" });
        var added = await AddSinkAsync($$"""{"name":"cache","kind":"redis","url":"{{Redis.Url}}"}""");
        Assert.Equal("redis", added.GetProperty("kind").GetString());
        Assert.Equal(SinkDefinition.DefaultStream, added.GetProperty("stream").GetString());

        var codes = await CreateLinksAsync(30, "r");
        Assert.Equal(HttpStatusCode.OK, (await Node.Client.PatchAsync($"/api/v1/links/{codes[0]}", TestNode.Json("""{"title":"changed"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Node.Client.DeleteAsync($"/api/v1/links/{codes[1]}")).StatusCode);

        await using var redis = await Redis.ConnectAsync();
        var entries = await WaitForStreamAsync(redis.GetDatabase(), SinkDefinition.DefaultStream, 32);
        var ids = IdsInShardOrder(entries);
        Assert.Equal((await FeedIdsAsync()).Order(), ids.Order());
        Assert.Equal(32, ids.Count);

        var last = JsonDocument.Parse((string)entries.Last(e => ((string)e["event"]!).Contains($"\"code\":\"{codes[1]}\"")) ["event"]!).RootElement;
        Assert.Equal("d", last.GetProperty("data").GetProperty("op").GetString());

        // Every shard's lease is this node's, and status catches up to no lag.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement sink;
        do
        {
            await Task.Delay(100);
            sink = (await Node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks/cache/status"))[0];
        }
        while (sink.GetProperty("lagEvents").GetInt32() > 0 && DateTime.UtcNow < deadline);

        Assert.Equal(0, sink.GetProperty("lagEvents").GetInt32());
        Assert.All(sink.GetProperty("shards").EnumerateArray(), s =>
        {
            Assert.Equal(1UL, s.GetProperty("holder").GetUInt64());
            Assert.True(s.GetProperty("token").GetUInt64() > 0);
        });
    }

    [SkippableFact]
    public async Task A_new_sink_starts_from_when_it_was_added_unless_asked_for_every_change_kept()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await StartNodeAsync(new() { ["Shortener:Cluster:Shards"] = "2" });
        await CreateLinksAsync(3, "early");
        await AddSinkAsync($$"""{"name":"fresh","kind":"redis","url":"{{Redis.Url}}","stream":"fresh"}""");
        await AddSinkAsync($$"""{"name":"history","kind":"redis","url":"{{Redis.Url}}","stream":"history","from":"oldest"}""");
        await AddSinkAsync($$"""{"name":"bad","kind":"redis","url":"{{Redis.Url}}","from":"yesterday"}""", (HttpStatusCode)422);
        await CreateLinksAsync(2, "late");

        await using var redis = await Redis.ConnectAsync();
        await WaitForStreamAsync(redis.GetDatabase(), "history", 5);
        await WaitForStreamAsync(redis.GetDatabase(), "fresh", 2);
        await Task.Delay(300);
        Assert.Equal(5, IdsInShardOrder(await redis.GetDatabase().StreamRangeAsync("history")).Count);
        Assert.All(await redis.GetDatabase().StreamRangeAsync("fresh"), e => Assert.Contains("late-", (string)e["event"]!));
        Assert.Equal(2, (await redis.GetDatabase().StreamRangeAsync("fresh")).Length);
    }

    [SkippableFact]
    public async Task The_script_refuses_a_lower_token_and_skips_events_it_holds()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        var sink = SinkDefinition.Validate("s", "redis", Redis.Url, null, "fenced", null, 0);
        await using var writer = new RedisStreamSink(sink, new ChangeEventFormat(1), TimeSpan.Zero, TimeProvider.System);
        LinkChange Change(ulong index, int position = 0) =>
            new(new ChangeOffset(2, index, position), 1, ChangeOperation.Create, null, new Core.Links.Link("c" + index, "https://example.com/", 0, 0, null, null, 0, 302, [], null, false), 0, default);

        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 2, 10), await writer.WriteAsync(new ShardBatch(2, 10, [Change(5), Change(6)]), default));
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 10), await writer.WriteAsync(new ShardBatch(2, 10, [Change(5), Change(6), Change(6, 1)]), default));
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Fenced, 0, 10), await writer.WriteAsync(new ShardBatch(2, 9, [Change(7)]), default));
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 11), await writer.WriteAsync(new ShardBatch(2, 11, [Change(7)]), default));
        // Tokens of another shard are another log's indexes: not compared with shard 2's.
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 3), await writer.WriteAsync(new ShardBatch(3, 3, [Change(1)]), default));

        await using var redis = await Redis.ConnectAsync();
        var ids = (await redis.GetDatabase().StreamRangeAsync("fenced")).Select(e => (string)e["id"]!).ToArray();
        Assert.Equal(["links-2-5-0", "links-2-6-0", "links-2-6-1", "links-2-7-0", "links-2-1-0"], ids);
    }

    [SkippableFact]
    public async Task Shards_batches_that_meet_go_to_redis_in_one_call_each_fenced_on_its_own()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        var sink = SinkDefinition.Validate("s", "redis", Redis.Url, null, "grouped", null, 0);
        // 2 s: the first call (connection, script load) must end well inside the interval, or the
        // next writes would not wait for it and could go one by one.
        await using var writer = new RedisStreamSink(sink, new ChangeEventFormat(1), TimeSpan.FromSeconds(2), TimeProvider.System);
        LinkChange Change(int shard, ulong index) =>
            new(new ChangeOffset(shard, index, 0), 1, ChangeOperation.Create, null, new Core.Links.Link($"c{shard}-{index}", "https://example.com/", 0, 0, null, null, 0, 302, [], null, false), 0, default);

        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 10), await writer.WriteAsync(new ShardBatch(2, 10, [Change(2, 5)]), default));

        // Asked for within the interval after that call: one call carries all three; shard 2's stale
        // token is refused without holding up shard 3's or shard 4's events.
        var stale = writer.WriteAsync(new ShardBatch(2, 9, [Change(2, 6)]), default);
        var three = writer.WriteAsync(new ShardBatch(3, 4, [Change(3, 1), Change(3, 2)]), default);
        var four = writer.WriteAsync(new ShardBatch(4, 8, [Change(4, 3)]), default);
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Fenced, 0, 10), await stale);
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 2, 4), await three);
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 8), await four);
        Assert.Equal((2L, 4L), writer.Counts);

        await using var redis = await Redis.ConnectAsync();
        var entries = await redis.GetDatabase().StreamRangeAsync("grouped");
        Assert.Equal(["links-2-5-0", "links-3-1-0", "links-3-2-0", "links-4-3-0"], entries.Select(e => (string)e["id"]!));
        Assert.Equal(["2", "3", "3", "4"], entries.Select(e => (string)e["shard"]!));
    }

    [SkippableFact]
    public async Task A_deliverer_whose_token_the_sink_refuses_stops_and_says_so_in_the_log_and_metrics()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await StartNodeAsync();
        await using var redis = await Redis.ConnectAsync();
        // Another deliverer (a later lease) has written to this stream already.
        for (var shard = 0; shard < 16; shard++)
        {
            await redis.GetDatabase().HashSetAsync("taken.fence", $"token:{shard}", "999999999");
        }

        await AddSinkAsync($$"""{"name":"taken","kind":"redis","url":"{{Redis.Url}}","stream":"taken"}""");
        await CreateLinksAsync(3, "f");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_logs.Entries.Any(e => e.Message.Contains("refused fencing token")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains(_logs.Entries, e => e.Message.Contains("refused fencing token") && e.Message.Contains("999999999"));
        Assert.Equal(0, await redis.GetDatabase().StreamLengthAsync("taken"));
        var metrics = await Node.Anonymous.GetStringAsync("/metrics");
        Assert.Contains("shortener_sink_writes_fenced_total{", metrics);
    }

    [SkippableFact]
    public async Task A_sink_that_is_down_never_holds_up_writes_shows_its_lag_and_catches_up_without_repeats()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await StartNodeAsync();
        await AddSinkAsync($$"""{"name":"down","kind":"redis","url":"{{Redis.Url}}"}""");
        await CreateLinksAsync(5, "before");
        await using (var first = await Redis.ConnectAsync())
        {
            Assert.Equal(5, (await WaitForStreamAsync(first.GetDatabase(), SinkDefinition.DefaultStream, 5)).Length);
        }

        // Status counts from the progress the deliverer recorded (with its lease renewals): wait for it.
        await WaitForLagAsync("down", lag => lag == 0);

        Redis.Kill();
        var started = DateTime.UtcNow;
        await CreateLinksAsync(20, "during");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "creates waited on the sink");

        Assert.Equal(20, (await WaitForLagAsync("down", lag => lag >= 20)).GetProperty("lagEvents").GetInt32());
        var dashboard = await Node.Client.GetStringAsync("/dashboard");
        Assert.Matches("<table id=\"sinks\">.*<td>down</td><td>redis</td>.*<td class=\"n bad\">20</td>", dashboard.ReplaceLineEndings(" "));

        await Redis.StartAgainAsync();
        await using var redis = await Redis.ConnectAsync();
        await redis.GetDatabase().StreamRangeAsync(SinkDefinition.DefaultStream);
        // A fresh server has lost the stream and its fence: delivery resumes after what was recorded, never before it.
        var entries = await WaitForStreamAsync(redis.GetDatabase(), SinkDefinition.DefaultStream, 20);
        var ids = IdsInShardOrder(entries);
        Assert.Equal(20, ids.Count);
        Assert.All(entries, e => Assert.Contains("during-", (string)e["event"]!));
    }

    [SkippableFact]
    public async Task Bad_sink_configuration_is_refused_with_a_problem_naming_what_is_wrong()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await StartNodeAsync();
        var closedPort = RedisServer.Unavailable is null ? await FreeClosedPortAsync() : 1;
        (string Body, string Type, string Says)[] cases =
        [
            ($$"""{"name":"a","kind":"redis","url":"{{Redis.Url}}","topic":"orders"}""", "invalid-field", "unknown topic orders"),
            ("""{"name":"a","kind":"webhook","url":"http://example.com/hook"}""", "invalid-field", "https"),
            ("""{"name":"a","kind":"kafka","url":"kafka://127.0.0.1:9092"}""", "invalid-field", "kind must be redis or webhook"),
            ($$"""{"name":"Bad Name","kind":"redis","url":"{{Redis.Url}}"}""", "invalid-field", "name is required"),
            ("""{"name":"a","kind":"redis","url":"http://127.0.0.1:6379"}""", "invalid-field", "redis://"),
            ($$"""{"name":"a","kind":"redis","url":"redis://127.0.0.1:{{closedPort}}"}""", "sink-unreachable", "cannot be reached"),
            ($$"""{"name":"a","kind":"webhook","url":"http://127.0.0.1:{{closedPort}}/hook"}""", "sink-unreachable", "cannot be reached"),
        ];
        foreach (var (body, type, says) in cases)
        {
            var problem = await AddSinkAsync(body, (HttpStatusCode)422);
            Assert.EndsWith(type, problem.GetProperty("type").GetString());
            Assert.Contains(says, problem.GetProperty("detail").GetString());
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await Node.Client.PostAsync("/admin/v1/sinks", TestNode.Json("{not json"))).StatusCode);

        await AddSinkAsync($$"""{"name":"a","kind":"redis","url":"{{Redis.Url}}"}""");
        Assert.Equal("sink-exists", (await AddSinkAsync($$"""{"name":"a","kind":"redis","url":"{{Redis.Url}}"}""", HttpStatusCode.Conflict)).GetProperty("type").GetString()!.Split(':')[^1]);
        Assert.Equal(HttpStatusCode.NotFound, (await Node.Client.DeleteAsync("/admin/v1/sinks/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Node.Client.DeleteAsync("/admin/v1/sinks/a")).StatusCode);
        Assert.Empty((await Node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks")).GetProperty("sinks").EnumerateArray());
    }

    private static async Task<int> FreeClosedPortAsync()
    {
        await using var probe = await RedisServer.StartAsync();
        var port = probe.Port;
        probe.Kill();
        return port;
    }

    [Fact]
    public async Task A_sink_down_for_longer_than_a_lease_keeps_its_deliverers_lease_and_position()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        await StartNodeAsync(new() { ["Shortener:Cluster:Shards"] = "1" });
        await AddSinkAsync($$"""{"name":"down","kind":"webhook","url":"{{receiver.Url}}"}""");
        await CreateLinksAsync(2, "waiting");

        // Retrying for twice the lease (3 s): the holder renews as it retries, under one token.
        var tokens = new HashSet<ulong>();
        var deadline = DateTime.UtcNow.AddSeconds(7);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            var shard = (await Node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks/down/status"))[0].GetProperty("shards")[0];
            if (shard.GetProperty("token").GetUInt64() is > 0 and var token)
            {
                tokens.Add(token);
            }
        }

        Assert.True(receiver.Failed >= 5, $"{receiver.Failed} attempts");
        Assert.Single(tokens);
        Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains("ran out before it could be renewed"));

        receiver.StopFailing();
        await WaitForLagAsync("down", lag => lag == 0);
        Assert.Equal(["waiting-0", "waiting-1"], receiver.Deliveries.SelectMany(d => JsonDocument.Parse(d.Body).RootElement.EnumerateArray().Select(e => e.GetProperty("subject").GetString())).Distinct());
    }

    [Fact]
    public async Task A_webhook_gets_signed_batches_retried_after_failures_and_dead_letters_past_the_bound()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        await StartNodeAsync(new() { ["Shortener:Sinks:MaxAttempts"] = "4" });
        var secret = "a-secret-of-enough-length";
        var added = await AddSinkAsync($$"""{"name":"hook","kind":"webhook","url":"{{receiver.Url}}","secret":"{{secret}}"}""");
        Assert.Equal(secret, added.GetProperty("secret").GetString());
        Assert.Equal("********", (await Node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks")).GetProperty("sinks")[0].GetProperty("secret").GetString());

        var codes = await CreateLinksAsync(10, "w");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (receiver.EventIds.Distinct().Count() < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal((await FeedIdsAsync()).Order(), receiver.EventIds.Distinct().Order());
        Assert.True(receiver.Failed >= 2);
        Assert.All(receiver.Deliveries, d =>
        {
            Assert.Equal(WebhookSink.Sign(Encoding.UTF8.GetBytes(secret), d.Body), d.Signature);
            Assert.True(d.Token > 0);
        });

        // Now it refuses every batch: after four attempts the batch is a dead letter and delivery goes on.
        receiver.FailAlways = true;
        await CreateLinksAsync(1, "lost");
        JsonElement sink;
        JsonElement[] dead;
        deadline = DateTime.UtcNow.AddSeconds(15);
        do
        {
            await Task.Delay(100);
            sink = (await Node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks/hook/status"))[0];
            dead = [.. sink.GetProperty("shards").EnumerateArray().SelectMany(s => s.GetProperty("recentDeadLetters").EnumerateArray())];
        }
        while (dead.Length == 0 && DateTime.UtcNow < deadline);

        var letter = Assert.Single(dead);
        Assert.Contains("422", letter.GetProperty("error").GetString());
        Assert.Equal(1, letter.GetProperty("count").GetInt32());
        await WaitForLagAsync("hook", lag => lag == 0);
    }
}
