using System.CommandLine;
using Shortener.Cli.Client;
using Shortener.Cli.Cluster;
using Shortener.Node.Api;
using Shortener.Storage;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener up`: a local cluster of separate node processes on 127.0.0.1, in the foreground.
/// Waits until every shard has a leader, prints where everything is, and stops the nodes cleanly on
/// Ctrl-C. Run again on the same data dir, it restarts the same cluster with its data.
/// </summary>
public static class UpCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Node processes to start", DefaultValueFactory = _ => 3 };
        var dcs = new Option<int>("--dcs") { Description = "Data centres to spread them over (round-robin)", DefaultValueFactory = _ => 3 };
        var shards = new Option<int>("--shards") { Description = "Link shards (fixed when the cluster is created)", DefaultValueFactory = _ => 16 };
        var data = new Option<string>("--data") { Description = "Data directory of the whole cluster", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SHORTENER_DATA") is { Length: > 0 } d ? d : "./data" };
        var port = new Option<int>("--port") { Description = "HTTP port of node 1; node i uses port+i-1", DefaultValueFactory = _ => 8080 };
        var peerPort = new Option<int?>("--peer-port") { Description = "Peer (gRPC) port of node 1 (default port+1000)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for every shard to elect a leader", DefaultValueFactory = _ => 60 };
        var command = new Command("up", "Start a local cluster: separate node processes on 127.0.0.1, the API, redirects and metrics on each; Ctrl-C stops them all")
        {
            nodes, dcs, shards, data, port, peerPort, timeout,
        };
        command.SetAction(async (parse, invocationToken) =>
        {
            // SIGTERM (and Ctrl-C) stop the nodes cleanly instead of ending this process at once.
            using var stop = new GracefulStop(invocationToken);
            var cancellationToken = stop.Token;

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (n, d, s, p) = (parse.GetValue(nodes), parse.GetValue(dcs), parse.GetValue(shards), parse.GetValue(port));
            var pp = parse.GetValue(peerPort) ?? p + 1000;
            if (n is < 1 or > 64 || d < 1 || s is < 1 or > 1024 || p is < 1 or > 65535 || pp is < 1 or > 65535 || p + n - 1 > 65535 || pp + n - 1 > 65535)
            {
                await error.WriteLineAsync("error: need 1-64 nodes, at least 1 data centre, 1-1024 shards, and ports that fit below 65536");
                return 2;
            }

            LocalClusterLayout layout;
            try
            {
                layout = LocalClusterLayout.OpenOrCreate(
                    parse.GetValue(data)!,
                    () => LocalClusterLayout.Plan(n, Math.Min(d, n), s, p, pp),
                    Environment.GetEnvironmentVariable("SHORTENER_API_KEY"),
                    Environment.GetEnvironmentVariable("SHORTENER_CLUSTER_SECRET"));
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }

            var topology = layout.Topology;
            if (layout.Existing)
            {
                await output.WriteLineAsync($"Restarting the {topology.Members.Count}-node cluster kept in {layout.DataDir} ({topology.Shards} shards; --nodes, --dcs, --shards and ports apply only to a new data dir).");
                foreach (var member in layout.Elsewhere)
                {
                    await error.WriteLineAsync($"warning: member {member.Id} ({member.Dc}, {member.HttpUrl}) has no directory in {layout.DataDir}, so `up` does not start it; it still counts in its shards' quorums (start it, or remove it with `shortener cluster remove-node {member.Id}`)");
                }
            }

            var busy = layout.BusyAddresses();
            if (busy.Count > 0)
            {
                await error.WriteLineAsync($"error: {string.Join(", ", busy)} already in use; stop what holds them, or pick other ports with --port/--peer-port on a new --data dir");
                return 1;
            }

            await output.WriteLineAsync($"Starting {topology.Members.Count} nodes in {topology.Members.Select(m => m.Dc).Distinct().Count()} data centres ({topology.Shards} shards, {topology.ReplicationFactor} replicas each)...");
            await using var cluster = LocalCluster.Start(layout);
            try
            {
                var ready = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(parse.GetValue(timeout)), output, cancellationToken);
                if (ready is not null)
                {
                    await error.WriteLineAsync($"error: {ready}");
                    return 1;
                }

                await PrintWelcome(layout, output);
                await WatchAsync(cluster.Processes, output, cancellationToken);
                return 0;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
            finally
            {
                await output.WriteLineAsync("Stopping the nodes...");
                await cluster.StopAsync(output);
                await output.WriteLineAsync("Stopped.");
            }
        });
        return command;
    }

    private static async Task PrintWelcome(LocalClusterLayout layout, TextWriter output)
    {
        var first = layout.Topology.Members[0];
        await output.WriteLineAsync();
        await output.WriteLineAsync("Shortener is up.");
        foreach (var member in layout.Topology.Members)
        {
            await output.WriteLineAsync($"  node {member.Id} ({member.Dc}): {member.HttpUrl}   metrics {member.HttpUrl}/metrics   log {Path.Combine(layout.NodeDataDir(member.Id), "node.log")}");
        }

        await output.WriteLineAsync($"API key: {layout.ApiKey}   (kept in {Path.Combine(layout.DataDir, "api-key")} unless SHORTENER_API_KEY is set)");
        await output.WriteLineAsync("Try it:");
        await output.WriteLineAsync($"  curl -s -X POST {first.HttpUrl}/api/v1/links -H 'X-Api-Key: {layout.ApiKey}' -H 'Content-Type: application/json' -d '{{\"url\":\"https://example.com\"}}'");
        await output.WriteLineAsync($"Dashboard: {first.HttpUrl}/dashboard   (your browser asks for a password: the API key; any user name)");
        await output.WriteLineAsync($"Web app:   {first.HttpUrl}/app/   (log in with the API key; Shlink clients: {first.HttpUrl} with the same key)");
        await output.WriteLineAsync($"Cluster status: shortener cluster status --server {first.HttpUrl}");
        await output.WriteLineAsync("Warning: these nodes take injected faults (--allow-faults: shortener fault, shortener scenario), for testing; never start production nodes with it.");
        if (!layout.PeerTls)
        {
            await output.WriteLineAsync($"Warning: this cluster was made before peer TLS: its nodes talk in the clear on loopback (--plaintext-peers). A new --data gets mutual TLS between nodes.");
        }
        await output.WriteLineAsync("Press Ctrl-C to stop all nodes.");
    }

    /// <summary>Until Ctrl-C: reports a node that exits on its own (the others keep serving).</summary>
    private static async Task WatchAsync(IReadOnlyList<NodeProcess> processes, TextWriter output, CancellationToken cancellationToken)
    {
        var reported = new HashSet<ulong>();
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var process in processes.Where(p => p.HasExited && reported.Add(p.Id)))
            {
                await output.WriteLineAsync($"node {process.Id} exited with code {process.ExitCode}; see {process.LogPath}");
            }

            if (reported.Count == processes.Count)
            {
                await output.WriteLineAsync("every node has exited");
                return;
            }

            await Task.Delay(500, cancellationToken);
        }
    }
}
