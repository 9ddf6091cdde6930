using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using Shortener.Bench.Cluster.Etcd;

// Closed-loop load for bench/cluster.sh: N clients, each sending its next request when the last
// one returns, spread over the endpoints (client i talks to endpoint i mod count), for a fixed time
// after a warm-up. Two lines per concurrency level:
//   RESULT target op clients requests_per_s p50_ms p99_ms errors
//   CPU target op clients system_cpu_ms_per_op load_generator_cpu_ms_per_op
// The system's CPU is that of the processes named by --pids (all threads, user and kernel, from
// /proc); the load generator's is its own, so a reader can tell whether it was the bottleneck.
// --rate R paces the clients to R requests/s in all (each client waits for its turn; one that
// falls behind sends at once): below saturation, the CPU per request is then the work a request
// costs, not two cores divided by the throughput.
//
//   ClusterBench shortener|etcd create|read ENDPOINTS [--clients 1,16,64] [--duration 10] [--warmup 3] [--api-key K] [--keys 2000] [--pids P,P] [--clock-ticks 100] [--rate R]
if (args.Length < 3 || args[0] is not ("shortener" or "etcd") || args[1] is not ("create" or "read"))
{
    Console.Error.WriteLine("usage: ClusterBench shortener|etcd create|read http://a,http://b,... [--clients 1,16,64] [--duration 10] [--warmup 3] [--api-key K] [--keys 2000] [--pids P,P] [--clock-ticks 100] [--rate R]");
    return 2;
}

var target = args[0];
var op = args[1];
var endpoints = args[2].Split(',', StringSplitOptions.RemoveEmptyEntries);
var options = new Dictionary<string, string>();
for (var i = 3; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

var clientCounts = options.GetValueOrDefault("--clients", "1,16,64").Split(',').Select(int.Parse).ToArray();
var duration = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--duration", "10"), CultureInfo.InvariantCulture));
var warmup = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--warmup", "3"), CultureInfo.InvariantCulture));
var keyCount = int.Parse(options.GetValueOrDefault("--keys", "2000"), CultureInfo.InvariantCulture);
var apiKey = options.GetValueOrDefault("--api-key", string.Empty);
var pids = options.GetValueOrDefault("--pids", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
var clockTicks = double.Parse(options.GetValueOrDefault("--clock-ticks", "100"), CultureInfo.InvariantCulture);
var rate = double.Parse(options.GetValueOrDefault("--rate", "0"), CultureInfo.InvariantCulture);

ITarget system = target == "shortener" ? new ShortenerTarget(endpoints, apiKey) : new EtcdTarget(endpoints);
if (op == "read")
{
    Console.Error.WriteLine($"{target}: writing {keyCount} records to read...");
    await system.PrepareReadsAsync(keyCount);
}

foreach (var clients in clientCounts)
{
    await RunAsync(system, op, clients, warmup, rate, recordInto: null);
    var latencies = new List<double>[clients];
    var errors = new int[clients];
    var systemCpu = ProcessCpu.Seconds(pids, clockTicks);
    var ownCpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    await RunAsync(system, op, clients, duration, rate, (client, ms, ok) =>
    {
        (latencies[client] ??= []).Add(ms);
        if (!ok)
        {
            errors[client]++;
        }
    });
    var elapsed = clock.Elapsed.TotalSeconds;
    systemCpu = ProcessCpu.Seconds(pids, clockTicks) - systemCpu;
    ownCpu = Process.GetCurrentProcess().TotalProcessorTime - ownCpu;
    var all = latencies.Where(l => l is not null).SelectMany(l => l).Order().ToArray();
    var p50 = all.Length == 0 ? 0 : all[(int)(0.50 * (all.Length - 1))];
    var p99 = all.Length == 0 ? 0 : all[(int)(0.99 * (all.Length - 1))];
    var completed = all.Length - errors.Sum();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {target} {op} {clients} {completed / elapsed:F0} {p50:F2} {p99:F2} {errors.Sum()}"));
    var requests = Math.Max(1, all.Length);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU {target} {op} {clients} {(pids.Length == 0 ? double.NaN : systemCpu * 1000 / requests):F3} {ownCpu.TotalMilliseconds / requests:F3}"));
}

return 0;

static async Task RunAsync(ITarget system, string op, int clients, TimeSpan length, double rate, Action<int, double, bool>? recordInto)
{
    using var stop = new CancellationTokenSource(length);
    var begun = Stopwatch.GetTimestamp();
    var interval = rate > 0 ? TimeSpan.FromSeconds(clients / rate) : TimeSpan.Zero;
    var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
    {
        var random = new Random(client);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            // Paced: client i's n-th turn comes at (n + i / clients) intervals after the start.
            var due = (interval * (n + ((double)client / clients))) - Stopwatch.GetElapsedTime(begun);
            if (due > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(due, stop.Token);
                }
                catch (TaskCanceledException)
                {
                    break;
                }
            }

            var started = Stopwatch.GetTimestamp();
            bool ok;
            try
            {
                ok = op == "create" ? await system.CreateAsync(client, n) : await system.ReadAsync(client, random);
            }
            catch (Exception e) when (e is HttpRequestException or Grpc.Core.RpcException or TaskCanceledException)
            {
                ok = false;
            }

            recordInto?.Invoke(client, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok);
        }
    })).ToArray();
    await Task.WhenAll(tasks);
}

/// <summary>The system under load: one create (a link, or a put of the same size) and one linearizable read.</summary>
internal interface ITarget
{
    Task PrepareReadsAsync(int count);

    Task<bool> CreateAsync(int client, int n);

    Task<bool> ReadAsync(int client, Random random);
}

/// <summary>Shortener's HTTP API: POST /api/v1/links, GET /api/v1/links/{code} (linearizable by default).</summary>
internal sealed class ShortenerTarget : ITarget
{
    private readonly HttpClient[] _clients;
    private string[] _codes = [];

    public ShortenerTarget(string[] endpoints, string apiKey)
    {
        _clients = endpoints.Select(e =>
        {
            var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri(e), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
            return http;
        }).ToArray();
    }

    public static string Url(int client, int n) => Payload.Url(client, n);

    public async Task PrepareReadsAsync(int count)
    {
        var codes = new string[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var response = await _clients[worker % _clients.Length].PostAsJsonAsync("/api/v1/links", new { url = Url(10_000 + worker, i) });
                response.EnsureSuccessStatusCode();
                codes[i] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
            }
        }));
        _codes = codes;
    }

    public async Task<bool> CreateAsync(int client, int n)
    {
        using var response = await _clients[client % _clients.Length].PostAsJsonAsync("/api/v1/links", new { url = Url(client, n) });
        return response.StatusCode == System.Net.HttpStatusCode.Created;
    }

    public async Task<bool> ReadAsync(int client, Random random)
    {
        using var response = await _clients[client % _clients.Length].GetAsync($"/api/v1/links/{_codes[random.Next(_codes.Length)]}");
        return response.IsSuccessStatusCode;
    }
}

/// <summary>etcd's gRPC KV API: Put of a key and value as large as a link's URL; linearizable Range of one key.</summary>
internal sealed class EtcdTarget : ITarget
{
    private readonly KV.KVClient[] _clients;
    private int _keys;

    public EtcdTarget(string[] endpoints)
    {
        _clients = endpoints.Select(e => new KV.KVClient(GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        }))).ToArray();
    }

    public async Task PrepareReadsAsync(int count)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await _clients[worker % _clients.Length].PutAsync(Put(-1, i));
            }
        }));
        _keys = count;
    }

    public async Task<bool> CreateAsync(int client, int n)
    {
        await _clients[client % _clients.Length].PutAsync(Put(client, n));
        return true;
    }

    public async Task<bool> ReadAsync(int client, Random random)
    {
        var response = await _clients[client % _clients.Length].RangeAsync(new RangeRequest { Key = Key(-1, random.Next(_keys)) });
        return response.Kvs.Count == 1;
    }

    private static ByteString Key(int client, int n) => ByteString.CopyFromUtf8($"/links/{client}/{n}");

    private static PutRequest Put(int client, int n) => new() { Key = Key(client, n), Value = ByteString.CopyFromUtf8(Payload.Url(client, n)) };
}

/// <summary>CPU time of other processes, from /proc (Linux).</summary>
internal static class ProcessCpu
{
    /// <summary>User and system CPU seconds the processes used so far (those that have exited count 0).</summary>
    public static double Seconds(int[] pids, double clockTicks)
    {
        long ticks = 0;
        foreach (var pid in pids)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue;
            }

            // Fields after the command name, which is in parentheses and may hold spaces:
            // state is field 3, utime field 14 and stime field 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return ticks / clockTicks;
    }
}

/// <summary>The record both systems write: a URL of about 100 bytes.</summary>
internal static class Payload
{
    private static readonly string Padding = new('x', 48);

    public static string Url(int client, int n) => string.Create(CultureInfo.InvariantCulture, $"https://example.com/bench/{client}/{n}?ref=cluster-benchmark&pad={Padding}");
}
