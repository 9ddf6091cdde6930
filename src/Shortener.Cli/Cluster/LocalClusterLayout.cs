using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shortener.Core.Cluster;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;

namespace Shortener.Cli.Cluster;

/// <summary>
/// A cluster of node processes on 127.0.0.1 kept in one data directory: cluster.json (the
/// topology), cluster-secret and api-key (both 0600, generated once), tls/ (the cluster's
/// certificate authority, key 0600) and node-N/ per node (with tls/, its peer certificate). Node i
/// serves HTTP on port+i-1 and peers, over mutual TLS, on peerPort+i-1; data centres are dealt
/// round-robin. A cluster made before peer TLS keeps its http:// peer URLs and runs with
/// --plaintext-peers (loopback only).
/// </summary>
public sealed class LocalClusterLayout
{
    private LocalClusterLayout(string dataDir, ClusterTopology topology, string secret, string apiKey)
    {
        DataDir = dataDir;
        Topology = topology;
        Secret = secret;
        ApiKey = apiKey;
    }

    public string DataDir { get; }

    public ClusterTopology Topology { get; }

    public string Secret { get; }

    public string ApiKey { get; }

    public bool Existing { get; private init; }

    /// <summary>Members of the cluster with no node dir here: `up` does not start them (they run elsewhere, or were never started).</summary>
    public IReadOnlyList<ClusterMember> Elsewhere { get; private init; } = [];

    public string TopologyPath => Path.Combine(DataDir, TopologyFile.FileName);

    public static ClusterTopology Plan(int nodes, int dcs, int shards, int port, int peerPort, string host = "127.0.0.1") => new(
        Enumerable.Range(1, nodes).Select(i => new ClusterMember(
            (ulong)i,
            "dc" + (((i - 1) % dcs) + 1).ToString(CultureInfo.InvariantCulture),
            $"https://{host}:{peerPort + i - 1}",
            $"http://{host}:{port + i - 1}")).ToArray(),
        shards,
        ClusterTopology.DefaultReplicationFactor,
        BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
        7);

    /// <summary>
    /// The cluster kept in <paramref name="dataDir"/>, or a new one planned from the arguments.
    /// The API key is <paramref name="apiKey"/> when given, else the one kept, else a new one.
    /// </summary>
    public static LocalClusterLayout OpenOrCreate(string dataDir, Func<ClusterTopology> plan, string? apiKey, string? secret)
    {
        Directory.CreateDirectory(dataDir);
        if (Directory.Exists(Path.Combine(dataDir, "shards")) || File.Exists(Path.Combine(dataDir, "node.db")))
        {
            throw new ArgumentException($"{dataDir} is one node's data dir (from `shortener serve`), not a cluster's; give `up` another --data");
        }

        var topologyPath = Path.Combine(dataDir, TopologyFile.FileName);
        var existing = File.Exists(topologyPath);
        ClusterTopology topology;
        IReadOnlyList<ClusterMember> elsewhere = [];
        if (existing)
        {
            (topology, elsewhere) = Current(dataDir, TopologyFile.Load(topologyPath));
        }
        else
        {
            topology = plan();
            var errors = topology.Validate();
            if (errors.Count > 0)
            {
                throw new ArgumentException(string.Join("; ", errors));
            }

            TopologyFile.Save(topologyPath, topology);
        }

        var key = apiKey is { Length: > 0 } ? apiKey : KeptSecret(Path.Combine(dataDir, "api-key"), 24);
        var clusterSecret = secret is { Length: > 0 } ? secret : KeptSecret(Path.Combine(dataDir, "cluster-secret"), 32);
        return new LocalClusterLayout(dataDir, topology, clusterSecret, key) { Existing = existing, Elsewhere = elsewhere };
    }

    /// <summary>The cluster's certificate authority: tls/ca.pem and tls/ca-key.pem (made at first use).</summary>
    public string AuthorityPath => Path.Combine(DataDir, "tls", "ca.pem");

    /// <summary>Whether the cluster's peers speak TLS (its peer URLs are https://); one made before peer TLS does not.</summary>
    public bool PeerTls => Topology.Members.All(m => m.PeerUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The peer TLS files of <paramref name="member"/> (certificate, key, authority), issued by the
    /// cluster's authority for its peer host when missing, not signed by it, not for that host, not a
    /// pair, or near their end.
    /// </summary>
    public (string Certificate, string Key, string Authority) NodeCertificate(ClusterMember member)
    {
        var authorityKey = Path.Combine(DataDir, "tls", "ca-key.pem");
        var now = DateTimeOffset.UtcNow;
        if (!File.Exists(AuthorityPath) || !File.Exists(authorityKey))
        {
            var (authorityPem, authorityKeyPem) = PeerCertificates.CreateAuthority("Shortener cluster " + Path.GetFileName(Path.GetFullPath(DataDir)), now);
            PeerCertificates.Write(authorityKey, authorityKeyPem, secret: true);
            PeerCertificates.Write(AuthorityPath, authorityPem, secret: false);
        }

        var certificate = Path.Combine(NodeDataDir(member.Id), "tls", "node.pem");
        var key = Path.Combine(NodeDataDir(member.Id), "tls", "node-key.pem");
        var host = new Uri(member.PeerUrl).Host;
        if (!File.Exists(certificate) || !File.Exists(key) || !Usable(certificate, key, host))
        {
            var (pem, keyPem) = PeerCertificates.Issue(File.ReadAllText(AuthorityPath), File.ReadAllText(authorityKey), $"node {member.Id}", [host, "localhost"], now);
            PeerCertificates.Write(key, keyPem, secret: true);
            PeerCertificates.Write(certificate, pem, secret: false);
        }

        return (certificate, key, AuthorityPath);
    }

    /// <summary>Whether the pair is one this cluster's peers take for <paramref name="host"/>: signed by the authority, for that host, its key, 30 days or more left.</summary>
    private bool Usable(string certificate, string key, string host)
    {
        try
        {
            using var pair = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate, key);
            using var authority = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(AuthorityPath);
            var names = pair.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().SingleOrDefault();
            var named = names is not null && (names.EnumerateIPAddresses().Any(ip => ip.ToString() == host.Trim('[', ']')) || names.EnumerateDnsNames().Contains(host, StringComparer.OrdinalIgnoreCase));
            return named && PeerSecurity.SignedBy(pair, authority) && pair.NotAfter > DateTime.UtcNow.AddDays(30);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The serve arguments that protect <paramref name="member"/>'s peer traffic: its TLS files, or plaintext for a cluster made before peer TLS.</summary>
    private IReadOnlyList<string> PeerArguments(ClusterMember member)
    {
        if (!member.PeerUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
        {
            return ["--plaintext-peers"];
        }

        var (certificate, key, authority) = NodeCertificate(member);
        return ["--tls-cert", certificate, "--tls-key", key, "--tls-ca", authority];
    }

    /// <summary>
    /// The cluster as its nodes last knew it: the member list changes (`cluster add-node`,
    /// `remove-node`) reach each node's own cluster.json, not the one `up` wrote. Of a changed list,
    /// the members to run are those with a node dir here (a node added by hand was started once
    /// with `serve --join` into data/node-N) that are not leaving.
    /// </summary>
    private static (ClusterTopology Run, IReadOnlyList<ClusterMember> Elsewhere) Current(string dataDir, ClusterTopology created)
    {
        var newest = created;
        foreach (var dir in Directory.EnumerateDirectories(dataDir, "node-*"))
        {
            var kept = Path.Combine(dir, TopologyFile.FileName);
            try
            {
                if (File.Exists(kept) && TopologyFile.Load(kept) is { } known && known.Version > newest.Version)
                {
                    newest = known;
                }
            }
            catch (Storage.StorageException)
            {
                // That node will say what is wrong with its file when it starts.
            }
        }

        if (newest.Version == 0)
        {
            return (newest, []);
        }

        var staying = newest.Members.Where(m => !m.Leaving).ToList();
        var here = staying.Where(m => Directory.Exists(NodeDir(dataDir, m.Id))).ToArray();
        return (newest with { Members = here }, staying.Except(here).ToArray());
    }

    public string NodeDataDir(ulong id) => NodeDir(DataDir, id);

    private static string NodeDir(string dataDir, ulong id) => Path.Combine(dataDir, "node-" + id.ToString(CultureInfo.InvariantCulture));

    /// <summary>The `shortener serve` arguments for member <paramref name="id"/> (a local cluster takes injected faults).</summary>
    public IReadOnlyList<string> ServeArguments(ulong id)
    {
        var member = Topology.Member(id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "not a member");
        return
        [
            "serve",
            "--id", id.ToString(CultureInfo.InvariantCulture),
            "--dc", member.Dc,
            "--data", NodeDataDir(id),
            "--urls", member.HttpUrl,
            "--peer-url", member.PeerUrl,
            .. PeerArguments(member),
            "--topology", TopologyPath,
            "--allow-faults",
        ];
    }

    /// <summary>The `shortener serve` arguments for <paramref name="member"/>, not in this layout's topology, to join through <paramref name="seedPeerUrl"/>.</summary>
    public IReadOnlyList<string> JoinArguments(ClusterMember member, string seedPeerUrl) =>
    [
        "serve",
        "--id", member.Id.ToString(CultureInfo.InvariantCulture),
        "--dc", member.Dc,
        "--data", NodeDataDir(member.Id),
        "--urls", member.HttpUrl,
        "--peer-url", member.PeerUrl,
        .. PeerArguments(member),
        "--join", seedPeerUrl,
        "--allow-faults",
    ];

    /// <summary>Environment for a node process: the API key and the cluster secret (kept out of the process list).</summary>
    public IReadOnlyDictionary<string, string> NodeEnvironment() => new Dictionary<string, string>
    {
        ["SHORTENER_API_KEY"] = ApiKey,
        ["SHORTENER_CLUSTER_SECRET"] = Secret,
    };

    /// <summary>Addresses of the plan already taken by another program, as "host:port" strings.</summary>
    public IReadOnlyList<string> BusyAddresses()
    {
        var busy = new List<string>();
        foreach (var url in Topology.Members.SelectMany(m => new[] { m.HttpUrl, m.PeerUrl }))
        {
            var uri = new Uri(url);
            try
            {
                using var listener = new TcpListener(IPAddress.Parse(uri.Host), uri.Port);
                listener.Start();
            }
            catch (SocketException)
            {
                busy.Add($"{uri.Host}:{uri.Port}");
            }
        }

        return busy;
    }

    private static string KeptSecret(string path, int bytes)
    {
        if (File.Exists(path))
        {
            var kept = File.ReadAllText(path).Trim();
            if (kept.Length > 0)
            {
                return kept;
            }
        }

        var value = Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.WriteLine(value);
        }

        return value;
    }
}
