using Shortener.Cli.Cluster;
using Shortener.Core.Cluster;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Node.Tests;

namespace Shortener.Cli.Tests;

public sealed class LocalClusterLayoutTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_restart_runs_the_members_the_nodes_last_knew_of_not_the_ones_up_created()
    {
        var created = LocalClusterLayout.OpenOrCreate(_dir.Path, () => LocalClusterLayout.Plan(3, 3, 4, 18080, 19080), apiKey: null, secret: null);
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            Directory.CreateDirectory(created.NodeDataDir(id));
        }

        // Unchanged: every member runs.
        Assert.Equal([1UL, 2, 3], LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null).Topology.Members.Select(m => m.Id));

        // Node 4 was added (and started once into node-4), node 1 is leaving; node 3's file is older.
        var topology = created.Topology;
        var four = new ClusterMember(4, "dc1", "http://127.0.0.1:19083", "http://127.0.0.1:18083");
        var changed = topology.WithMembers(new ClusterMembership([topology.Members[0] with { Leaving = true }, topology.Members[1], topology.Members[2], four], 4), 2);
        TopologyFile.Save(Path.Combine(created.NodeDataDir(2), TopologyFile.FileName), changed);
        TopologyFile.Save(Path.Combine(created.NodeDataDir(3), TopologyFile.FileName), topology.WithMembers(new ClusterMembership(topology.Members, 3), 1));
        File.WriteAllText(Path.Combine(created.NodeDataDir(1), TopologyFile.FileName), "damaged");
        Directory.CreateDirectory(created.NodeDataDir(4));

        var restarted = LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null);
        Assert.Equal([2UL, 3, 4], restarted.Topology.Members.Select(m => m.Id));
        Assert.Equal(four.HttpUrl, restarted.Topology.Member(4)!.HttpUrl);

        // A member added but never started here is not started by `up`.
        Directory.Delete(created.NodeDataDir(4));
        var without = LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null);
        Assert.Equal([2UL, 3], without.Topology.Members.Select(m => m.Id));
        Assert.Equal([4UL], without.Elsewhere.Select(m => m.Id));
    }

    [Fact]
    public async Task A_new_cluster_gets_an_authority_and_a_certificate_per_node_and_tls_issue_signs_a_new_one()
    {
        var layout = LocalClusterLayout.OpenOrCreate(_dir.Path, () => LocalClusterLayout.Plan(3, 3, 4, 18080, 19080), apiKey: null, secret: null);
        Assert.True(layout.PeerTls);
        var arguments = layout.ServeArguments(2);
        Assert.DoesNotContain("--plaintext-peers", arguments);
        var certificate = arguments[arguments.ToList().IndexOf("--tls-cert") + 1];
        var key = arguments[arguments.ToList().IndexOf("--tls-key") + 1];
        var authority = arguments[arguments.ToList().IndexOf("--tls-ca") + 1];
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Path, "tls", "ca-key.pem")));
        }
        var security = Node.Peers.PeerSecurity.Load(new Node.Hosting.ClusterOptions { TlsCert = certificate, TlsKey = key, TlsCa = authority });
        Assert.Null(security.Refusal("https://127.0.0.1:19081"));
        Assert.NotNull(security.Refusal("http://127.0.0.1:19081"));

        // Issued again only when it must be: the same file while it is good.
        var before = await File.ReadAllTextAsync(certificate);
        layout.ServeArguments(2);
        Assert.Equal(before, await File.ReadAllTextAsync(certificate));

        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await ShortenerCli.RunAsync(["tls", "issue", "--data", _dir.Path, "--id", "4", "--peer-url", "https://10.0.0.4:9080"], output, error));
        var line = output.ToString().TrimEnd().Split('\n')[^1].Split(' ');
        var issued = Node.Peers.PeerSecurity.Load(new Node.Hosting.ClusterOptions { TlsCert = line[1], TlsKey = line[3], TlsCa = line[5] });
        Assert.True(security.Trusts(issued.Certificate));
        Assert.Contains("IP Address:10.0.0.4", issued.Certificate!.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().Format(false));

        // Issued for another host, it is made again for that one.
        Assert.Equal(0, await ShortenerCli.RunAsync(["tls", "issue", "--data", _dir.Path, "--id", "4", "--peer-url", "https://10.0.0.5:9080"], output, error));
        using (var moved = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(line[1]))
        {
            Assert.Contains("IP Address:10.0.0.5", moved.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().Format(false));
        }

        Assert.Equal(2, await ShortenerCli.RunAsync(["tls", "issue", "--data", _dir.Path, "--id", "4", "--peer-url", "http://10.0.0.4:9080"], output, error));
        Assert.Equal(1, await ShortenerCli.RunAsync(["tls", "issue", "--data", Path.Combine(_dir.Path, "nothing"), "--id", "4", "--peer-url", "https://10.0.0.4:9080"], output, error));
        Assert.Contains("holds no cluster", error.ToString());
    }

    [Fact]
    public void A_cluster_made_before_peer_tls_keeps_plaintext_on_loopback()
    {
        var plain = LocalClusterLayout.Plan(3, 3, 4, 18080, 19080);
        plain = plain with { Members = [.. plain.Members.Select(m => m with { PeerUrl = m.PeerUrl.Replace("https:", "http:", StringComparison.Ordinal) })] };
        var layout = LocalClusterLayout.OpenOrCreate(_dir.Path, () => plain, apiKey: null, secret: null);
        Assert.False(layout.PeerTls);
        Assert.Contains("--plaintext-peers", layout.ServeArguments(1));
        Assert.DoesNotContain("--tls-cert", layout.ServeArguments(1));
    }
}
