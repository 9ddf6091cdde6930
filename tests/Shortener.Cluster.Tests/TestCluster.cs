using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Shortener.Cli.Cluster;
using Shortener.Core.Cluster;
using Shortener.Node.Api;

namespace Shortener.Cluster.Tests;

/// <summary>
/// A cluster of real node processes (`shortener serve`) on loopback, over a temporary data dir, with
/// free ports. Nodes can be killed (-9), restarted, paused (SIGSTOP) and resumed; the admin API
/// shows each node's view. Logs of a failed test's nodes are kept in the data dir's node-N/node.log.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const int TickMs = 100;
    public const int ElectionTicks = 10;

    /// <summary>The longest an election timeout can be (timeouts are randomised in [n, 2n) ticks).</summary>
    public static readonly TimeSpan MaxElectionTimeout = TimeSpan.FromMilliseconds(2 * ElectionTicks * TickMs);

    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
    private readonly TempDirectory _dir;
    private readonly Dictionary<ulong, NodeProcess> _processes = [];
    private readonly Dictionary<ulong, HttpClient> _clients = [];
    private readonly Dictionary<ulong, IReadOnlyList<string>> _joined = [];
    private readonly IReadOnlyDictionary<string, string> _extraEnvironment;
    private readonly NamespaceNetwork? _network;

    private TestCluster(TempDirectory dir, LocalClusterLayout layout, IReadOnlyDictionary<string, string> extraEnvironment, NamespaceNetwork? network)
    {
        _dir = dir;
        _network = network;
        Layout = layout;
        _extraEnvironment = extraEnvironment;
        foreach (var member in layout.Topology.Members)
        {
            var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(member.HttpUrl), Timeout = TimeSpan.FromSeconds(15) };
            client.DefaultRequestHeaders.Add("X-Api-Key", layout.ApiKey);
            _clients[member.Id] = client;
        }
    }

    public LocalClusterLayout Layout { get; }

    public ClusterTopology Topology => Layout.Topology;

    public IEnumerable<ulong> Ids => Topology.Members.Select(m => m.Id);

    /// <param name="network">Run node i in its own namespace of this network, at its own address (default: all on 127.0.0.1).</param>
    /// <param name="allowFaults">Whether the nodes take injected faults (`serve --allow-faults`, as `up` starts them).</param>
    private bool _allowFaults = true;

    public static async Task<TestCluster> StartAsync(int nodes, int dcs = 3, int shards = 8, IReadOnlyDictionary<string, string>? environment = null, NamespaceNetwork? network = null, bool allowFaults = true)
    {
        var dir = new TempDirectory();
        var ports = network is null ? FreePorts(2 * nodes) : Enumerable.Range(0, 2 * nodes).Select(i => i % 2 == 0 ? 8080 : 9080).ToArray();
        string Host(int i) => network?.Address(i) ?? "127.0.0.1";
        var topology = new ClusterTopology(
            Enumerable.Range(1, nodes).Select(i => new ClusterMember(
                (ulong)i,
                $"dc{((i - 1) % dcs) + 1}",
                $"https://{Host(i)}:{ports[(2 * i) - 1]}",
                $"http://{Host(i)}:{ports[2 * (i - 1)]}")).ToArray(),
            shards,
            ClusterTopology.DefaultReplicationFactor,
            42,
            7);
        var layout = LocalClusterLayout.OpenOrCreate(dir.Path, () => topology, apiKey: null, secret: null);
        var cluster = new TestCluster(dir, layout, environment ?? new Dictionary<string, string>(), network) { _allowFaults = allowFaults };
        foreach (var id in cluster.Ids)
        {
            cluster.Start(id);
        }

        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(60));
        return cluster;
    }

    public HttpClient Client(ulong id) => _clients[id];

    public NodeProcess Process(ulong id) => _processes[id];

    public void Start(ulong id)
    {
        var arguments = _joined.TryGetValue(id, out var joined) ? joined : Layout.ServeArguments(id);
        _processes[id] = NodeProcess.Start(id, _allowFaults ? arguments : arguments.Where(a => a != "--allow-faults").ToList(), Environment(), Path.Combine(Layout.NodeDataDir(id), "node.log"), _network?.Wrapper((int)id));
    }

    /// <summary>Adds a member on new loopback ports through <paramref name="via"/>'s admin API (the answer is returned as is).</summary>
    public async Task<(HttpResponseMessage Response, ClusterMember Member)> AddMemberAsync(ulong via, ulong id, string dc)
    {
        var ports = FreePorts(2);
        var member = new ClusterMember(id, dc, $"https://127.0.0.1:{ports[1]}", $"http://127.0.0.1:{ports[0]}");
        var response = await _clients[via].PostAsJsonAsync("/admin/v1/cluster/nodes", new { id, dc, member.PeerUrl, member.HttpUrl }, Json);
        return (response, member);
    }

    /// <summary>Starts <paramref name="member"/> with `serve --join`, through <paramref name="seed"/>'s peer address.</summary>
    public void StartJoining(ClusterMember member, ulong seed)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(member.HttpUrl), Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Add("X-Api-Key", Layout.ApiKey);
        _clients[member.Id] = client;
        _joined[member.Id] = Layout.JoinArguments(member, Topology.Member(seed)!.PeerUrl);
        Start(member.Id);
    }

    private Dictionary<string, string> Environment()
    {
        var environment = new Dictionary<string, string>(Layout.NodeEnvironment())
        {
            ["Shortener__Cluster__TickMs"] = TickMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Shortener__Cluster__ElectionTicks"] = ElectionTicks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Information",

            // Tests drive many writes from one key and one address; the limits have their own tests.
            ["Shortener__RateLimits__PerKeyPerSecond"] = "0",
            ["Shortener__RateLimits__PerIpPerSecond"] = "0",
        };
        foreach (var (k, v) in _extraEnvironment)
        {
            environment[k] = v;
        }

        return environment;
    }

    /// <summary>The peer TLS of a node of this cluster (node 1's certificate), for a test that calls a peer port itself.</summary>
    public Node.Peers.PeerSecurity PeerSecurity()
    {
        var (certificate, key, authority) = Layout.NodeCertificate(Topology.Members[0]);
        return Node.Peers.PeerSecurity.Load(new Node.Hosting.ClusterOptions { TlsCert = certificate, TlsKey = key, TlsCa = authority });
    }

    /// <summary>A gRPC channel to <paramref name="peerUrl"/> over the cluster's mutual TLS.</summary>
    public Grpc.Net.Client.GrpcChannel PeerChannel(string peerUrl)
    {
        var handler = new SocketsHttpHandler();
        PeerSecurity().ConfigureClient(handler);
        return Grpc.Net.Client.GrpcChannel.ForAddress(peerUrl, new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>kill -9.</summary>
    public void Kill(ulong id)
    {
        _processes[id].Kill();
        _processes[id].WaitForExitAsync(CancellationToken.None).Wait(10_000);
        _processes.Remove(id, out var gone);
        gone!.Dispose();
    }

    public async Task RestartAsync(ulong id)
    {
        Start(id);
        await WaitUntilAsync(async () => await ViewAsync(id) is not null, TimeSpan.FromSeconds(30), $"node {id} did not come back");
    }

    /// <summary>This node's view of the cluster, waiting up to 15 s for it to answer (a loaded node can miss one 2 s poll).</summary>
    public async Task<ClusterView> RequireViewAsync(ulong id)
    {
        ClusterView? view = null;
        await WaitUntilAsync(async () => (view = await ViewAsync(id)) is not null, TimeSpan.FromSeconds(15), $"node {id} does not answer");
        return view!;
    }

    /// <summary>This node's view of the cluster, or null when it does not answer.</summary>
    public async Task<ClusterView?> ViewAsync(ulong id)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await _clients[id].GetFromJsonAsync<ClusterView>("/admin/v1/cluster", Json, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The leader of <paramref name="shard"/> that a live node reports as itself leading, or 0.</summary>
    public async Task<ulong> LeaderOfAsync(int shard, IEnumerable<ulong>? among = null)
    {
        foreach (var id in among ?? _processes.Keys)
        {
            if (await ViewAsync(id) is { } view && view.Shards[shard].Role == "leader")
            {
                return id;
            }
        }

        return 0;
    }

    /// <summary>The leader of <paramref name="shard"/>, waiting up to 10 s for a node to report leading it (none does for a moment while leadership moves).</summary>
    public async Task<ulong> RequireLeaderOfAsync(int shard)
    {
        ulong leader = 0;
        await WaitUntilAsync(async () => (leader = await LeaderOfAsync(shard)) != 0, TimeSpan.FromSeconds(10), $"no node leads shard {shard}");
        return leader;
    }

    public async Task WaitForLeadersAsync(TimeSpan timeout, IEnumerable<ulong>? among = null)
    {
        var nodes = (among ?? _processes.Keys).ToList();
        await WaitUntilAsync(
            async () =>
            {
                foreach (var id in nodes)
                {
                    if (await ViewAsync(id) is not { } view || view.Shards.Any(s => s.Leader == 0))
                    {
                        return false;
                    }
                }

                return true;
            },
            timeout,
            "not every shard elected a leader seen by every node");
    }

    /// <summary>Creates a link through <paramref name="via"/>; returns its code.</summary>
    public async Task<string> CreateAsync(ulong via, string url, string? alias = null, string? idempotencyKey = null)
    {
        var response = await PostCreateAsync(via, url, alias, idempotencyKey);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create through node {via}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("code").GetString()!;
    }

    /// <summary>
    /// Creates a link through <paramref name="via"/> right after a fault ends, when the node may
    /// still be relearning its shards' leaders: a 503 is retried under one idempotency key (a replay
    /// answers the stored 201), any other answer but 201 fails.
    /// </summary>
    public async Task<string> CreateEventuallyAsync(ulong via, string url, TimeSpan? within = null)
    {
        var key = Guid.NewGuid().ToString("N");
        string? code = null;
        await WaitUntilAsync(
            async () =>
            {
                using var response = await PostCreateAsync(via, url, idempotencyKey: key);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }

                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"create through node {via}: {(int)response.StatusCode} {body}");
                code = JsonDocument.Parse(body).RootElement.GetProperty("code").GetString();
                return true;
            },
            within ?? TimeSpan.FromSeconds(20),
            $"create through node {via} kept answering 503");
        return code!;
    }

    public async Task<HttpResponseMessage> PostCreateAsync(ulong via, string url, string? alias = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links")
        {
            Content = JsonContent.Create(alias is null ? new Dictionary<string, string> { ["url"] = url } : new Dictionary<string, string> { ["url"] = url, ["alias"] = alias }),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await _clients[via].SendAsync(request);
    }

    /// <summary>The Location a redirect through <paramref name="via"/> answers, or null for any other answer.</summary>
    public async Task<string?> RedirectAsync(ulong via, string code)
    {
        using var response = await _clients[via].GetAsync("/" + code);
        return response.StatusCode == HttpStatusCode.Found ? response.Headers.Location?.ToString() : null;
    }

    /// <summary>Waits until <paramref name="code"/> redirects to <paramref name="url"/> through <paramref name="via"/> (replicas apply a moment after the leader).</summary>
    public async Task AssertRedirectsAsync(ulong via, string code, string url, TimeSpan? within = null) =>
        await WaitUntilAsync(async () => await RedirectAsync(via, code) == url, within ?? TimeSpan.FromSeconds(5), $"node {via} does not redirect {code} to {url}");

    /// <summary>Waits until the log at <paramref name="path"/> holds <paramref name="text"/>: a line reaches the file through the node's logger queue and its stdout pipe, a moment after the state it reports.</summary>
    public static Task WaitForLogAsync(string path, string text, TimeSpan? within = null) =>
        WaitUntilAsync(
            async () => (await File.ReadAllTextAsync(path)).Contains(text, StringComparison.Ordinal),
            within ?? TimeSpan.FromSeconds(10),
            $"'{text}' is not in {path}");

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{failure} within {timeout.TotalSeconds:0.#} s");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_processes.Values.Select(p => p.StopAsync(TimeSpan.FromSeconds(10))));
        foreach (var process in _processes.Values)
        {
            process.Dispose();
        }

        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _dir.Dispose();
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
