// End-to-end latency of change data capture: creates are sent open-loop at a fixed rate across the
// cluster's endpoints; a reader in the same process follows the Redis stream the sink writes to
// (XREAD); each event is matched to its create by the link's code, and the latency is the time
// from the create's 201 arriving here to the event arriving here (one clock: this process's
// Stopwatch). An event can arrive before its 201 (the deliverer may beat the HTTP answer): that
// counts as 0. Prints p50/p99/max and a RESULT line.
//
//   CdcBench ENDPOINTS REDIS_HOST:PORT STREAM --api-key K [--rate 1000] [--duration 20] [--warmup 5]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using StackExchange.Redis;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: CdcBench http://a,http://b,... host:port stream --api-key K [--rate 1000] [--duration 20] [--warmup 5]");
    return 2;
}

var endpoints = args[0].Split(',', StringSplitOptions.RemoveEmptyEntries);
var options = new Dictionary<string, string>();
for (var i = 3; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

var rate = int.Parse(options.GetValueOrDefault("--rate", "1000"), CultureInfo.InvariantCulture);
var duration = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--duration", "20"), CultureInfo.InvariantCulture));
var warmup = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--warmup", "5"), CultureInfo.InvariantCulture));
var apiKey = options.GetValueOrDefault("--api-key", string.Empty);
var stream = args[2];

using var redis = await ConnectionMultiplexer.ConnectAsync(args[1]);
var database = redis.GetDatabase();
var answered = new ConcurrentDictionary<string, long>();
var arrived = new ConcurrentDictionary<string, long>();
using var stop = new CancellationTokenSource();

// Follow the stream from its current end.
var last = (await database.StreamInfoAsync(stream).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.LastGeneratedId : (RedisValue)"0-0")).ToString();
var reader = Task.Run(async () =>
{
    while (!stop.IsCancellationRequested)
    {
        var entries = await database.StreamReadAsync(stream, last, count: 1000);
        if (entries.Length == 0)
        {
            await Task.Delay(1);
            continue;
        }

        var now = Stopwatch.GetTimestamp();
        foreach (var entry in entries)
        {
            last = entry.Id.ToString();
            var code = JsonDocument.Parse((string)entry["event"]!).RootElement.GetProperty("subject").GetString()!;
            arrived.TryAdd(code, now);
        }
    }
});

var clients = endpoints.Select(e => new HttpClient { BaseAddress = new Uri(e), Timeout = TimeSpan.FromSeconds(10) }).ToArray();
foreach (var client in clients)
{
    client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
}

var failed = 0;
var inFlight = new SemaphoreSlim(512);
var measuredFrom = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
var end = measuredFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
var measured = new ConcurrentBag<string>();
var sent = 0L;
var started = Stopwatch.GetTimestamp();
var pending = new List<Task>();
while (Stopwatch.GetTimestamp() < end)
{
    // Open loop: as many creates as the rate says by now, whether or not earlier ones answered.
    var due = (long)((Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency * rate);
    while (sent < due)
    {
        var n = sent++;
        var inWindow = Stopwatch.GetTimestamp() >= measuredFrom;
        if (!await inFlight.WaitAsync(0))
        {
            Interlocked.Increment(ref failed);
            continue;
        }

        pending.Add(Task.Run(async () =>
        {
            try
            {
                var response = await clients[n % clients.Length].PostAsJsonAsync("/api/v1/links", new { url = $"https://example.com/cdc/{n}" });
                var now = Stopwatch.GetTimestamp();
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failed);
                    return;
                }

                var code = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
                answered[code] = now;
                if (inWindow)
                {
                    measured.Add(code);
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failed);
            }
            finally
            {
                inFlight.Release();
            }
        }));
    }

    await Task.Delay(1);
}

await Task.WhenAll(pending);
var deadline = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
while (measured.Any(c => !arrived.ContainsKey(c)) && Stopwatch.GetTimestamp() < deadline)
{
    await Task.Delay(50);
}

await stop.CancelAsync();
await reader;

var latencies = measured.Where(arrived.ContainsKey)
    .Select(c => Math.Max(0, (arrived[c] - answered[c]) * 1000.0 / Stopwatch.Frequency))
    .Order()
    .ToArray();
var missing = measured.Count(c => !arrived.ContainsKey(c));
double Quantile(double q) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
var achieved = measured.Count / duration.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"creates measured {measured.Count} ({achieved:F0}/s, target rate {rate}/s), failed or shed {failed}, events missing after 5 s {missing}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"201 -> event in Redis: p50 {Quantile(0.5):F1} ms, p99 {Quantile(0.99):F1} ms, max {Quantile(1):F1} ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT cdc_latency_p99_ms={Quantile(0.99):F1} rate={achieved:F0} missing={missing} target_p99_ms=50"));
return 0;
