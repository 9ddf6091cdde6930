using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Storage;

namespace Shortener.Cli.Commands;

/// <summary>`shortener serve`: one node in the foreground until Ctrl-C.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory (default ./data, or SHORTENER_DATA)" };
        var urls = new Option<string?>("--urls") { Description = "Addresses to listen on, ';'-separated (default http://127.0.0.1:8080)" };
        var publicUrl = new Option<string?>("--public-url") { Description = "Base of the short URLs handed out (default: the first listening address)" };
        var id = new Option<ulong?>("--id") { Description = "This node's id in the cluster (default 1)" };
        var dc = new Option<string?>("--dc") { Description = "This node's data centre (default dc1)" };
        var peerUrl = new Option<string?>("--peer-url") { Description = "Where peers reach this node (gRPC over mutual TLS), e.g. https://10.0.0.1:9080; http:// only with --plaintext-peers" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "This node's peer certificate (PEM), signed by the cluster's authority (`shortener up` makes them; `shortener tls issue` for a node added by hand)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The private key of --tls-cert (PEM)" };
        var tlsCa = new Option<string?>("--tls-ca") { Description = "The cluster's certificate authority (PEM): peers must present a certificate it signed" };
        var plaintextPeers = new Option<bool>("--plaintext-peers") { Description = "Allow http:// peer URLs on loopback: peer traffic in the clear, for development only" };
        var topology = new Option<string?>("--topology") { Description = "Cluster topology file to join at first start (see `shortener up`); without one the node is a cluster of one" };
        var join = new Option<string?>("--join") { Description = "Peer URL of any member of a running cluster to join at first start; add this node first with `shortener cluster add-node`" };
        var shards = new Option<int?>("--shards") { Description = "Shards of a new cluster of one (default 16)" };
        var parent = new Option<int?>("--exit-with-parent") { Description = "Stop when the process with this id exits", Hidden = true };
        var allowFaults = new Option<bool>("--allow-faults") { Description = "Take injected faults (partitions, delay, loss, pause) at /admin/v1/faults and from peers; for testing only, off by default" };
        var command = new Command("serve", "Run one Shortener node: the API, the redirects, /metrics and /openapi/v1.json; alone, or as a member of a cluster (cluster secret in SHORTENER_CLUSTER_SECRET)")
        {
            data, urls, publicUrl, id, dc, peerUrl, tlsCert, tlsKey, tlsCa, plaintextPeers, topology, join, shards, parent, allowFaults,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(data) is { } d)
            {
                overrides[$"{NodeOptions.Section}:DataDir"] = d;
            }

            if (parse.GetValue(urls) is { } u)
            {
                overrides["urls"] = u;
            }

            if (parse.GetValue(publicUrl) is { } p)
            {
                overrides[$"{NodeOptions.Section}:PublicBaseUrl"] = p;
            }

            if (parse.GetValue(id) is { } nodeId)
            {
                overrides[$"{ClusterOptions.Section}:NodeId"] = nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (parse.GetValue(dc) is { } dataCentre)
            {
                overrides[$"{ClusterOptions.Section}:Dc"] = dataCentre;
            }

            if (parse.GetValue(peerUrl) is { } peer)
            {
                overrides[$"{ClusterOptions.Section}:PeerUrl"] = peer;
            }

            foreach (var (option, key) in new[] { (tlsCert, "TlsCert"), (tlsKey, "TlsKey"), (tlsCa, "TlsCa") })
            {
                if (parse.GetValue(option) is { } path)
                {
                    overrides[$"{ClusterOptions.Section}:{key}"] = Path.GetFullPath(path);
                }
            }

            if (parse.GetValue(plaintextPeers))
            {
                overrides[$"{ClusterOptions.Section}:PlaintextPeers"] = "true";
            }

            if (parse.GetValue(topology) is { } file)
            {
                overrides[$"{ClusterOptions.Section}:TopologyFile"] = file;
            }

            if (parse.GetValue(join) is { } seed)
            {
                overrides[$"{ClusterOptions.Section}:Join"] = seed;
            }

            if (parse.GetValue(allowFaults))
            {
                overrides[$"{NodeOptions.Section}:AllowFaults"] = "true";
            }

            if (parse.GetValue(shards) is { } count)
            {
                overrides[$"{ClusterOptions.Section}:Shards"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            WebApplication app;
            try
            {
                app = ShortenerNodeApp.Build(ShortenerNodeApp.CreateBuilder([], overrides));
            }
            catch (Exception e) when (e is StorageException or InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Extensions.Options.OptionsValidationException)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }

            await using (app)
            {
                try
                {
                    await app.StartAsync(cancellationToken);
                }
                catch (IOException e)
                {
                    await error.WriteLineAsync($"error: cannot listen: {e.Message}");
                    return 1;
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }

                await output.WriteLineAsync($"Shortener is serving on {string.Join(", ", app.Urls)}; press Ctrl-C to stop.");
                if (parse.GetValue(parent) is { } parentPid)
                {
                    _ = WatchParentAsync(parentPid, app.Lifetime, cancellationToken);
                }

                // Returns on Ctrl-C or SIGTERM (either through this token or the host's own
                // console lifetime) after the host has stopped and the store is flushed.
                await app.WaitForShutdownAsync(cancellationToken);
                await output.WriteLineAsync("Shortener stopped.");
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// Stops the node when the process that started it is gone (so `up` killed with -9 leaves no
    /// orphans): this process is re-parented the moment its parent dies.
    /// </summary>
    private static async Task WatchParentAsync(int pid, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            if (Cluster.Signals.ParentProcessId() != pid)
            {
                lifetime.StopApplication();
                return;
            }
        }
    }
}
