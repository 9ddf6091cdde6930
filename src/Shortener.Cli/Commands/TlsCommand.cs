using System.CommandLine;
using Shortener.Cli.Cluster;
using Shortener.Core.Cluster;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener tls issue`: a peer certificate for a node added by hand to a cluster `up` keeps in
/// --data, signed by that cluster's authority (data/tls), written to data/node-N/tls/.
/// </summary>
public static class TlsCommand
{
    public static Command Create()
    {
        var tls = new Command("tls", "The cluster's peer certificates (mutual TLS between nodes)");
        tls.Subcommands.Add(IssueCommand());
        return tls;
    }

    private static Command IssueCommand()
    {
        var data = new Option<string>("--data") { Description = "The cluster's data dir, as given to `up` (default ./data)", DefaultValueFactory = _ => "./data" };
        var id = new Option<ulong>("--id") { Description = "The node's id (from `cluster add-node`)", Required = true };
        var peerUrl = new Option<string>("--peer-url") { Description = "Where peers will reach the node, e.g. https://10.0.0.4:9080: the certificate names its host", Required = true };
        var command = new Command("issue", "Sign a node's peer certificate with the cluster's authority and print the serve arguments that use it") { data, id, peerUrl };
        command.SetAction(async (parse, _) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var dir = parse.GetValue(data)!;
            var url = parse.GetValue(peerUrl)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var peer) || peer.Scheme != Uri.UriSchemeHttps)
            {
                await error.WriteLineAsync($"error: --peer-url must be an https:// URL, got '{url}'");
                return 2;
            }

            if (!File.Exists(Path.Combine(dir, Node.Membership.TopologyFile.FileName)))
            {
                await error.WriteLineAsync($"error: {dir} holds no cluster (no {Node.Membership.TopologyFile.FileName}); give the --data of `shortener up`");
                return 1;
            }

            var layout = LocalClusterLayout.OpenOrCreate(dir, () => throw new InvalidOperationException("unreachable"), apiKey: null, secret: null);
            var (certificate, key, authority) = layout.NodeCertificate(new ClusterMember(parse.GetValue(id), "-", url, "http://-"));
            await output.WriteLineAsync($"node {parse.GetValue(id)}'s peer certificate for {peer.Host} is in {Path.GetDirectoryName(certificate)}; serve it with:");
            await output.WriteLineAsync($"--tls-cert {certificate} --tls-key {key} --tls-ca {authority}");
            return 0;
        });
        return command;
    }
}
