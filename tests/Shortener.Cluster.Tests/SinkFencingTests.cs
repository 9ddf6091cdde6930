using System.Net.Http.Json;
using Shortener.Cli;
using Shortener.Tests;
using StackExchange.Redis;

namespace Shortener.Cluster.Tests;

/// <summary>
/// The fencing story with real processes (docs/cdc.md): a deliverer stopped past its lease with a
/// write in flight, another node takes the lease and delivers, the stopped one wakes and writes
/// under its old token, and Redis refuses it; the stream holds every event once, each shard's in
/// log order.
/// </summary>
public class SinkFencingTests
{
    private const int Shards = 2;

    [SkippableFact]
    public async Task A_deliverer_stopped_past_its_lease_is_refused_by_redis_and_the_stream_loses_and_repeats_nothing()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await using var redis = await RedisServer.StartAsync(durable: true);
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: Shards, environment: new Dictionary<string, string>
        {
            ["Shortener__Sinks__BackoffMaxMs"] = "300",
        });
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20));
        var first = cluster.Topology.Members[0].HttpUrl;
        var (code, output, error) = await RunAsync("sinks", "add", "redis", "--url", redis.Url, "--server", first, "--api-key", cluster.Layout.ApiKey);
        Assert.True(code == 0, error);
        Assert.Contains("added sink redis (redis)", output);

        var created = await CreateThroughEveryNodeAsync(cluster, 6);

        await using var reader = await redis.ConnectAsync();
        await WaitForStreamAsync(reader.GetDatabase(), created.Count);

        // Redis goes down: the deliverer of shard 0 (its leader's node) reads new events and retries them.
        var holder = await cluster.RequireLeaderOfAsync(0);
        var others = cluster.Ids.Where(id => id != holder).ToList();
        redis.Kill();
        for (var i = 0; i < 8; i++)
        {
            created.Add(await cluster.CreateAsync(holder, $"https://example.com/in-flight/{i}"));
        }

        await Task.Delay(1_000);
        cluster.Process(holder).Pause();
        try
        {
            // Redis is back (its append-only file kept the stream); the other nodes elect a leader
            // of shard 0, whose node takes the lease once it expired and delivers.
            await redis.StartAgainAsync();
            for (var i = 0; i < 4; i++)
            {
                created.Add(await cluster.CreateEventuallyAsync(others[i % 2], $"https://example.com/while-stopped/{i}"));
            }

            await WaitForStreamAsync(reader.GetDatabase(), created.Count);
        }
        finally
        {
            cluster.Process(holder).Resume();
        }

        // The stopped deliverer wakes believing its lease still runs (it counted no ticks while
        // stopped) and retries its write under the old token: Redis refuses it.
        await TestCluster.WaitUntilAsync(
            async () => (await cluster.Client(holder).GetStringAsync("/metrics")).Contains("shortener_sink_writes_fenced_total{"),
            TimeSpan.FromSeconds(20),
            $"node {holder} never had a write refused for its stale token");

        await AssertEveryLinkOnceInShardOrderAsync(reader.GetDatabase(), created);

        (code, output, error) = await RunAsync("sinks", "status", "--server", first, "--api-key", cluster.Layout.ApiKey);
        Assert.True(code == 0, error);
        Assert.Contains("sink redis (redis)", output);
        (code, output, error) = await RunAsync("sinks", "remove", "redis", "--server", first, "--api-key", cluster.Layout.ApiKey);
        Assert.True(code == 0, error);
        (code, output, _) = await RunAsync("sinks", "list", "--server", first, "--api-key", cluster.Layout.ApiKey);
        Assert.DoesNotContain("redis://", output);
    }

    [SkippableFact]
    public async Task A_deliverer_cut_off_by_a_partition_stops_when_its_lease_runs_out_and_another_node_delivers_the_rest_once()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: Shards);
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20));
        await using var reader = await redis.ConnectAsync();
        var created = await AddSinkAndCreateAsync(cluster, redis, reader.GetDatabase());
        var holder = await cluster.RequireLeaderOfAsync(0);
        var others = cluster.Ids.Where(id => id != holder).ToList();
        var before = await ShardLeaseAsync(cluster, others[0]);
        Assert.Equal(holder, before.Holder);

        // A consumer of the HTTP feed reads through the partition from the majority's side.
        var consumer = new FeedConsumer(cluster.Client(others[1]));
        await consumer.FollowAsync(TimeSpan.FromSeconds(1));

        // Cut the holder's data centre off: the others elect a leader of shard 0, whose node takes
        // the lease once the old one expired, and delivers what is created meanwhile.
        var fault = await cluster.Client(others[0]).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { $"dc{holder}" }, forSeconds = 60 });
        Assert.Equal(System.Net.HttpStatusCode.OK, fault.StatusCode);
        for (var i = 0; i < 8; i++)
        {
            created.Add(await cluster.CreateEventuallyAsync(others[i % 2], $"https://example.com/during/{i}"));
        }

        await WaitForStreamAsync(reader.GetDatabase(), created.Count);
        await consumer.FollowAsync(TimeSpan.FromSeconds(2));
        var during = await ShardLeaseAsync(cluster, others[0]);
        Assert.NotEqual(holder, during.Holder);
        Assert.True(during.Token > before.Token, $"token {during.Token} after {before.Token}");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await cluster.Client(others[1]).DeleteAsync("/admin/v1/faults")).StatusCode);
        created.Add(await cluster.CreateEventuallyAsync(holder, "https://example.com/after-heal"));
        await WaitForStreamAsync(reader.GetDatabase(), created.Count);
        await consumer.FollowAsync(TimeSpan.FromSeconds(2));
        await AssertEveryLinkOnceInShardOrderAsync(reader.GetDatabase(), created);
        consumer.AssertSawEachOnceInShardOrder(created);
    }

    [SkippableFact]
    public async Task A_killed_deliverer_is_replaced_and_a_feed_consumer_through_the_leader_change_misses_nothing()
    {
        Skip.If(RedisServer.Unavailable is not null, RedisServer.Unavailable);
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: Shards);
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20));
        await using var reader = await redis.ConnectAsync();
        var created = await AddSinkAndCreateAsync(cluster, redis, reader.GetDatabase());

        // A consumer follows the feed, page by page, from a node that stays up.
        var holder = await cluster.RequireLeaderOfAsync(0);
        var others = cluster.Ids.Where(id => id != holder).ToList();
        var consumer = new FeedConsumer(cluster.Client(others[0]));
        await consumer.FollowAsync(TimeSpan.FromSeconds(1));

        // kill -9 of the deliverer (shard 0's leader): the others elect a leader, take the lease once
        // it expired, and deliver what is created meanwhile; the consumer reads on.
        cluster.Kill(holder);
        for (var i = 0; i < 8; i++)
        {
            created.Add(await cluster.CreateEventuallyAsync(others[i % 2], $"https://example.com/after-kill/{i}"));
        }

        await consumer.FollowAsync(TimeSpan.FromSeconds(2));
        await WaitForStreamAsync(reader.GetDatabase(), created.Count);
        await cluster.RestartAsync(holder);
        created.Add(await cluster.CreateEventuallyAsync(holder, "https://example.com/after-restart"));
        await WaitForStreamAsync(reader.GetDatabase(), created.Count);
        await consumer.FollowAsync(TimeSpan.FromSeconds(2));

        await AssertEveryLinkOnceInShardOrderAsync(reader.GetDatabase(), created);
        consumer.AssertSawEachOnceInShardOrder(created);
    }

    /// <summary>A consumer of <c>GET /api/v1/changes</c> (long-poll pages) through one node, resuming from the last <c>next</c> after a failed request.</summary>
    private sealed class FeedConsumer(HttpClient node)
    {
        private readonly List<System.Text.Json.JsonElement> _events = [];
        private string? _next;

        public async Task FollowAsync(TimeSpan within)
        {
            var until = DateTime.UtcNow + within;
            while (DateTime.UtcNow < until)
            {
                try
                {
                    var page = await node.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/changes?wait=1&limit=1000" + (_next is null ? string.Empty : "&after=" + Uri.EscapeDataString(_next)));
                    _events.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.Clone()));
                    _next = page.GetProperty("next").GetString();
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }
        }

        /// <summary>It got one event per created link, none twice, each shard's in log order.</summary>
        public void AssertSawEachOnceInShardOrder(List<string> created)
        {
            var ids = _events.Select(e => e.GetProperty("id").GetString()!).ToList();
            Assert.Equal(ids.Distinct().Count(), ids.Count);
            foreach (var shard in ids.Select(Offset).GroupBy(o => o.Shard))
            {
                Assert.Equal(shard.OrderBy(o => o), shard);
            }

            Assert.Equal(created.Order(), _events.Select(e => e.GetProperty("subject").GetString()!).Order());
        }
    }

    /// <summary>Shard 0's lease for the sink as <paramref name="via"/> reports it.</summary>
    private static async Task<(ulong Holder, ulong Token)> ShardLeaseAsync(TestCluster cluster, ulong via)
    {
        var status = await cluster.Client(via).GetFromJsonAsync<System.Text.Json.JsonElement>("/admin/v1/sinks/status");
        var shard = status[0].GetProperty("shards").EnumerateArray().Single(s => s.GetProperty("shard").GetInt32() == 0);
        return (shard.GetProperty("holder").GetUInt64(), shard.GetProperty("token").GetUInt64());
    }

    /// <summary>Adds the Redis sink through the API, creates six links through the nodes in turn, and waits until the stream holds them.</summary>
    private static async Task<List<string>> AddSinkAndCreateAsync(TestCluster cluster, RedisServer redis, IDatabase stream)
    {
        var added = await cluster.Client(1).PostAsJsonAsync("/admin/v1/sinks", new { name = "cache", kind = "redis", url = redis.Url });
        Assert.Equal(System.Net.HttpStatusCode.Created, added.StatusCode);
        var created = await CreateThroughEveryNodeAsync(cluster, 6);
        await WaitForStreamAsync(stream, created.Count);
        return created;
    }

    /// <summary>Creates <paramref name="count"/> links, through each node in turn.</summary>
    private static async Task<List<string>> CreateThroughEveryNodeAsync(TestCluster cluster, int count)
    {
        var created = new List<string>();
        for (var i = 0; i < count; i++)
        {
            created.Add(await cluster.CreateAsync(cluster.Ids.ElementAt(i % 3), $"https://example.com/before/{i}"));
        }

        return created;
    }

    /// <summary>Once the stream settled: it holds one event per created link, none twice, each shard's in log order.</summary>
    private static async Task AssertEveryLinkOnceInShardOrderAsync(IDatabase database, List<string> created)
    {
        await Task.Delay(1_000);
        var entries = await database.StreamRangeAsync(Node.Sinks.SinkDefinition.DefaultStream);
        var ids = entries.Select(e => (string)e["id"]!).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        foreach (var shard in ids.Select(Offset).GroupBy(o => o.Shard))
        {
            Assert.Equal(shard.OrderBy(o => o), shard);
        }

        var codes = entries.Select(e => System.Text.Json.JsonDocument.Parse((string)e["event"]!).RootElement.GetProperty("data").GetProperty("after").GetProperty("code").GetString()!).Order();
        Assert.Equal(created.Order(), codes);
    }

    private static Core.Changes.ChangeOffset Offset(string id)
    {
        var parts = id.Split('-');
        return new Core.Changes.ChangeOffset(int.Parse(parts[1]), ulong.Parse(parts[2]), int.Parse(parts[3]));
    }

    private static async Task WaitForStreamAsync(IDatabase database, int count) =>
        await TestCluster.WaitUntilAsync(
            async () => await database.StreamLengthAsync(Node.Sinks.SinkDefinition.DefaultStream) >= count,
            TimeSpan.FromSeconds(30),
            $"the stream never reached {count} events");

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ShortenerCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
