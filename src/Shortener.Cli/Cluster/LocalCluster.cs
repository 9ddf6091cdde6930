using Shortener.Cli.Client;
using Shortener.Core.Cluster;
using Shortener.Node.Api;

namespace Shortener.Cli.Cluster;

/// <summary>
/// The node processes of a <see cref="LocalClusterLayout"/>, started together: waits until every
/// shard has a leader every node knows, and stops them all cleanly. `up` runs one in the
/// foreground; `scenario` runs one in a temporary directory.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);

    private readonly List<NodeProcess> _processes;
    private readonly IReadOnlyDictionary<string, string> _environment;

    private LocalCluster(LocalClusterLayout layout, List<NodeProcess> processes, IReadOnlyDictionary<string, string> environment)
    {
        Layout = layout;
        _processes = processes;
        _environment = environment;
    }

    public LocalClusterLayout Layout { get; }

    /// <summary>Every node process started, the founders' and those that joined later.</summary>
    public IReadOnlyList<NodeProcess> Processes
    {
        get
        {
            lock (_processes)
            {
                return [.. _processes];
            }
        }
    }

    /// <summary>Starts one process per member of the layout; <see cref="WaitForLeadersAsync"/> tells when they serve.</summary>
    public static LocalCluster Start(LocalClusterLayout layout, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var environment = new Dictionary<string, string>(layout.NodeEnvironment());
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var processes = layout.Topology.Members
            .Select(m => NodeProcess.Start(m.Id, layout.ServeArguments(m.Id), environment, Path.Combine(layout.NodeDataDir(m.Id), "node.log")))
            .ToList();
        return new LocalCluster(layout, processes, environment);
    }

    /// <summary>The process of node <paramref name="id"/> (the latest one started under that id).</summary>
    public NodeProcess Process(ulong id) => Processes.Last(p => p.Id == id);

    /// <summary>
    /// Starts <paramref name="member"/> (already added to the cluster's member list) with `serve
    /// --join`, through <paramref name="seedPeerUrl"/>: it fetches the topology and its shards fill
    /// from their leaders.
    /// </summary>
    public NodeProcess StartJoining(ClusterMember member, string seedPeerUrl)
    {
        var dataDir = Layout.NodeDataDir(member.Id);
        Directory.CreateDirectory(dataDir);
        var process = NodeProcess.Start(member.Id, Layout.JoinArguments(member, seedPeerUrl), _environment, Path.Combine(dataDir, "node.log"));
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>
    /// Null once every node answers and knows a leader for every shard, so that a request to any node
    /// finds its shard's leader; else why not, after the timeout. Progress lines go to <paramref name="output"/>.
    /// </summary>
    public async Task<string?> WaitForLeadersAsync(TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var clients = Layout.Topology.Members.ToDictionary(m => m.Id, m => new ShortenerApiClient(new HttpClient { BaseAddress = new Uri(m.HttpUrl), Timeout = TimeSpan.FromSeconds(2) }, Layout.ApiKey, attempts: 1));
        var lastReport = string.Empty;
        try
        {
            while (true)
            {
                if (Processes.FirstOrDefault(p => p.HasExited) is { } dead)
                {
                    return $"node {dead.Id} exited with code {dead.ExitCode} while starting; its log: {dead.LogPath}\n{Tail(dead.LogPath)}";
                }

                // Shards whose leader every answering node knows.
                HashSet<int>? led = null;
                var answering = 0;
                foreach (var (id, client) in clients)
                {
                    try
                    {
                        var view = await client.GetJsonAsync<ClusterView>("/admin/v1/cluster", cancellationToken);
                        answering++;
                        var known = view!.Shards.Where(s => s.Leader != 0).Select(s => s.Shard);
                        if (led is null)
                        {
                            led = [.. known];
                        }
                        else
                        {
                            led.IntersectWith(known);
                        }
                    }
                    catch (ApiProblem)
                    {
                        // Not listening yet.
                    }
                }

                var report = $"  {answering}/{clients.Count} nodes answering, {led?.Count ?? 0}/{Layout.Topology.Shards} shards with a leader known to all";
                if (report != lastReport)
                {
                    await output.WriteLineAsync(report);
                    lastReport = report;
                }

                if (answering == clients.Count && led?.Count == Layout.Topology.Shards)
                {
                    return null;
                }

                if (DateTime.UtcNow > deadline)
                {
                    return $"the cluster was not ready within {timeout.TotalSeconds:0} s ({report.Trim()}); node logs are in {Layout.DataDir}/node-*/node.log";
                }

                await Task.Delay(250, cancellationToken);
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Stops every node (SIGTERM, then SIGKILL after the grace period); a line for each that had to be killed.</summary>
    public async Task StopAsync(TextWriter output)
    {
        await Task.WhenAll(Processes.Select(async process =>
        {
            if (!await process.StopAsync(StopGrace))
            {
                await output.WriteLineAsync($"node {process.Id} did not stop within {StopGrace.TotalSeconds:0} s and was killed");
            }
        }));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TextWriter.Null);
        foreach (var process in Processes)
        {
            process.Dispose();
        }
    }

    private static string Tail(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd().Split('\n');
            return string.Join('\n', lines.TakeLast(15));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
