using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shortener.Simulation.Checkers;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>
/// Concurrent clients update and read links (consistency=linearizable) through every node of a real
/// cluster while a nemesis isolates data centres, kills and pauses nodes. The history is checked with
/// the linearizability checker; links whose creation was acknowledged must all exist at the end.
/// </summary>
public sealed class LinearizabilityTests(ITestOutputHelper output)
{
    private const int Keys = 4;
    private const int Workers = 6;

    [Fact]
    public async Task Updates_and_reads_under_partitions_crashes_and_pauses_are_linearizable_and_no_acknowledged_write_is_lost()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4);
        var history = new ConcurrentBag<RegisterOperation>();
        var acknowledged = new ConcurrentBag<(string Code, string Url)>();
        for (var k = 0; k < Keys; k++)
        {
            var invoke = Stopwatch.GetTimestamp();
            await cluster.CreateAsync(1, Value(k, "initial"), alias: Key(k));
            history.Add(new RegisterOperation(-1, Key(k), RegisterOperationKind.Write, Value(k, "initial"), null, null, invoke, Stopwatch.GetTimestamp(), OperationStatus.Ok));
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var nemesis = RunNemesisAsync(cluster, stop.Token);
        var workers = Enumerable.Range(0, Workers).Select(w => RunWorkerAsync(cluster, w, history, acknowledged, stop.Token)).ToArray();
        await Task.WhenAll(workers);
        var faults = await nemesis;

        // Heal everything, bring every node back, and read the final state everywhere.
        await cluster.Client(1).DeleteAsync("/admin/v1/faults");
        foreach (var id in cluster.Ids)
        {
            await cluster.Client(id).DeleteAsync("/admin/v1/faults");
        }

        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
        foreach (var id in cluster.Ids)
        {
            for (var k = 0; k < Keys; k++)
            {
                await RecordReadAsync(cluster, id, k, process: 100 + (int)id, history, CancellationToken.None);
            }
        }

        var operations = history.ToList();
        output.WriteLine($"nemesis: {string.Join(", ", faults)}");
        output.WriteLine($"{operations.Count} operations: {operations.Count(o => o.Status == OperationStatus.Ok)} ok, {operations.Count(o => o.Status == OperationStatus.Unknown)} unknown, {operations.Count(o => o.Status == OperationStatus.Fail)} failed; {acknowledged.Count} creates acknowledged");
        Assert.True(operations.Count(o => o.Status == OperationStatus.Ok && o.Kind == RegisterOperationKind.Write) > 20, "too few writes succeeded for the check to mean anything");
        Assert.True(operations.Count(o => o.Status == OperationStatus.Ok && o.Kind == RegisterOperationKind.Read) > 20, "too few reads succeeded for the check to mean anything");

        var verdict = LinearizabilityChecker.Check(operations);
        Assert.True(verdict.Linearizable && !verdict.Inconclusive, verdict.Describe());

        foreach (var (code, url) in acknowledged)
        {
            foreach (var id in cluster.Ids)
            {
                // A node just back from the nemesis may answer 503 (no read index yet) for a moment; 404 fails at once.
                HttpResponseMessage? read = null;
                await TestCluster.WaitUntilAsync(
                    async () =>
                    {
                        read?.Dispose();
                        read = await cluster.Client(id).GetAsync($"/api/v1/links/{code}");
                        return read.StatusCode != HttpStatusCode.ServiceUnavailable;
                    },
                    TimeSpan.FromSeconds(20),
                    $"node {id} kept answering 503 for {code}");
                Assert.True(read!.StatusCode == HttpStatusCode.OK, $"acknowledged link {code} is missing on node {id}: {(int)read.StatusCode}");
                Assert.Equal(url, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString());
                read.Dispose();
            }
        }
    }

    private static string Key(int k) => $"lin-{k}";

    private static string Value(int k, string suffix) => $"https://example.com/{k}/{suffix}";

    private static async Task RunWorkerAsync(TestCluster cluster, int worker, ConcurrentBag<RegisterOperation> history, ConcurrentBag<(string, string)> acknowledged, CancellationToken stop)
    {
        var random = new Random(worker);
        var nodes = cluster.Ids.ToArray();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var node = nodes[random.Next(nodes.Length)];
            var k = random.Next(Keys);
            var roll = random.Next(10);
            if (roll < 4)
            {
                await RecordWriteAsync(cluster, node, k, worker, $"w{worker}-{n}", history);
            }
            else if (roll < 9)
            {
                await RecordReadAsync(cluster, node, k, worker, history, CancellationToken.None);
            }
            else
            {
                var url = $"https://example.com/created/{worker}/{n}";
                try
                {
                    var response = await cluster.PostCreateAsync(node, url, idempotencyKey: $"create-{worker}-{n}");
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged.Add(((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!, url));
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
        }
    }

    private static async Task RecordWriteAsync(TestCluster cluster, ulong node, int k, int process, string suffix, ConcurrentBag<RegisterOperation> history)
    {
        var value = Value(k, suffix);
        var invoke = Stopwatch.GetTimestamp();
        OperationStatus status;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/links/{Key(k)}")
            {
                Content = JsonContent.Create(new { url = value }, new System.Net.Http.Headers.MediaTypeHeaderValue("application/merge-patch+json")),
            };
            using var response = await cluster.Client(node).SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            status = response.StatusCode switch
            {
                HttpStatusCode.OK => OperationStatus.Ok,
                HttpStatusCode.ServiceUnavailable when body.Contains("may still be applied", StringComparison.Ordinal) => OperationStatus.Unknown,
                HttpStatusCode.ServiceUnavailable => OperationStatus.Fail,
                _ => throw new InvalidOperationException($"unexpected answer to a write: {(int)response.StatusCode} {body}"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // The node died or froze mid-request: the write may or may not have happened.
            status = OperationStatus.Unknown;
        }

        var returned = status == OperationStatus.Unknown ? long.MaxValue : Stopwatch.GetTimestamp();
        history.Add(new RegisterOperation(process, Key(k), RegisterOperationKind.Write, value, null, null, invoke, returned, status));
    }

    private static async Task RecordReadAsync(TestCluster cluster, ulong node, int k, int process, ConcurrentBag<RegisterOperation> history, CancellationToken cancellationToken)
    {
        var invoke = Stopwatch.GetTimestamp();
        try
        {
            using var response = await cluster.Client(node).GetAsync($"/api/v1/links/{Key(k)}?consistency=linearizable", cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var url = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("url").GetString();
                history.Add(new RegisterOperation(process, Key(k), RegisterOperationKind.Read, null, null, url, invoke, Stopwatch.GetTimestamp(), OperationStatus.Ok));
                return;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
        }

        history.Add(new RegisterOperation(process, Key(k), RegisterOperationKind.Read, null, null, null, invoke, Stopwatch.GetTimestamp(), OperationStatus.Fail));
    }

    /// <summary>Every few seconds one fault, in turn: a data centre isolated, a node killed and restarted, a node paused and resumed.</summary>
    private static async Task<List<string>> RunNemesisAsync(TestCluster cluster, CancellationToken stop)
    {
        var random = new Random(7);
        var log = new List<string>();
        var ids = cluster.Ids.ToArray();
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            try
            {
                await Task.Delay(1500, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var victim = ids[random.Next(ids.Length)];
            switch (round % 3)
            {
                case 0:
                    var dc = cluster.Topology.Member(victim)!.Dc;
                    var via = ids.First(id => id != victim);
                    // Longer than a request's 5 s bound: the cut-off side answers 503.
                    await cluster.Client(via).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { dc }, forSeconds = 6 });
                    log.Add($"isolate {dc}");
                    await Task.Delay(6500);
                    break;
                case 1:
                    cluster.Kill(victim);
                    log.Add($"kill {victim}");
                    await Task.Delay(2000);
                    await cluster.RestartAsync(victim);
                    break;
                default:
                    cluster.Process(victim).Pause();
                    log.Add($"pause {victim}");
                    await Task.Delay(2500);
                    cluster.Process(victim).Resume();
                    break;
            }
        }

        return log;
    }
}
