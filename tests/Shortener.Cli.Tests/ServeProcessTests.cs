using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Shortener.Node.Tests;

namespace Shortener.Cli.Tests;

/// <summary>The real `shortener serve` process: starts, serves, and exits cleanly on Ctrl-C (SIGINT) and SIGTERM.</summary>
public sealed partial class ServeProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(2, "SIGINT")]
    [InlineData(15, "SIGTERM")]
    public async Task Serve_runs_until_signalled_then_exits_zero(int signal, string name)
    {
        var port = FreePort();
        using var process = ShortenerProcess.Start("serve", "--data", _dir.Path, "--urls", $"http://127.0.0.1:{port}");
        var stdout = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitUntilReady(http, process);
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "api-key"))).Trim();
        lock (stdout)
        {
            Assert.Contains($"Generated API key (shown once, also saved to {Path.Combine(_dir.Path, "api-key")}): {key}", stdout.ToString());
        }

        Assert.Equal(0, Kill(process.Id, signal));
        if (!process.WaitForExit(15_000))
        {
            // Not left running when the test fails. A shell starts background jobs with SIGINT
            // ignored, and .NET keeps an inherited SIG_IGN (nohup semantics): say so if that is why.
            process.Kill();
            Assert.Fail($"serve did not exit within 15 s of {name}" + (signal == 2 && SigIntIgnored() ? " (this test run ignores SIGINT, so the node inherited that: run the tests in the foreground)" : string.Empty));
        }

        Assert.Equal(0, process.ExitCode);
        await process.WaitForExitAsync();
        lock (stdout)
        {
            Assert.Contains("Shortener stopped.", stdout.ToString());
        }
    }

    /// <summary>Whether this process ignores SIGINT (bit 1 of SigIgn in /proc/self/status).</summary>
    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 2) != 0;
    }

    [Fact]
    public async Task Serve_with_a_damaged_database_exits_one_with_the_reason()
    {
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "node.db"), Enumerable.Repeat((byte)0x42, 10_000).ToArray());
        using var process = ShortenerProcess.Start("serve", "--data", _dir.Path, "--urls", $"http://127.0.0.1:{FreePort()}");
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("error: cannot open node database", error);
        Assert.Contains("node.db", error);
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:1", "joining a cluster needs its secret")]
    [InlineData("s3cret", "ftp://127.0.0.1:1", "--join needs a member's peer URL")]
    [InlineData("s3cret", "http://127.0.0.1:1", "is plain http: peer traffic must be encrypted")]
    [InlineData("s3cret", "https://127.0.0.1:1", "has no peer TLS files")]
    [InlineData("s3cret", "FREE", "cannot join through")]
    public async Task Serve_that_cannot_join_exits_one_with_the_reason(string? secret, string seed, string reason)
    {
        var environment = secret is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["SHORTENER_CLUSTER_SECRET"] = secret };
        var join = seed == "FREE" ? $"http://127.0.0.1:{FreePort()}" : seed;
        string[] plaintext = seed == "FREE" ? ["--plaintext-peers"] : [];
        using var process = ShortenerProcess.Start(environment, ["serve", "--data", _dir.Path, "--id", "4", "--urls", $"http://127.0.0.1:{FreePort()}", "--join", join, .. plaintext]);
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains(reason, error);

        // Nothing was set up: the data dir holds no topology to start from next time.
        Assert.False(File.Exists(Path.Combine(_dir.Path, "cluster.json")));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9", false, "is plain http: peer traffic must be encrypted")]
    [InlineData("http://10.1.2.3:9", true, "--plaintext-peers is for loopback development only")]
    [InlineData("http://localhost:9", true, "on a loopback address such as 127.0.0.1")]
    [InlineData("https://127.0.0.1:9", false, "has no peer TLS files")]
    public async Task Serve_refuses_peer_traffic_it_cannot_protect(string peerUrl, bool plaintext, string reason)
    {
        var environment = new Dictionary<string, string> { ["SHORTENER_CLUSTER_SECRET"] = "s3cret-s3cret" };
        string[] flag = plaintext ? ["--plaintext-peers"] : [];
        using var process = ShortenerProcess.Start(environment, ["serve", "--data", _dir.Path, "--urls", $"http://127.0.0.1:{FreePort()}", "--peer-url", peerUrl, .. flag]);
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains(reason, error);
    }

    [Fact]
    public async Task Serve_with_part_of_the_tls_files_or_a_foreign_certificate_exits_one_with_the_reason()
    {
        var (authority, _) = Node.Peers.PeerCertificates.CreateAuthority("ours", DateTimeOffset.UtcNow);
        var (other, otherKey) = Node.Peers.PeerCertificates.CreateAuthority("theirs", DateTimeOffset.UtcNow);
        var (foreign, foreignKey) = Node.Peers.PeerCertificates.Issue(other, otherKey, "node 1", ["127.0.0.1"], DateTimeOffset.UtcNow);
        var files = new Dictionary<string, string> { ["ca.pem"] = authority, ["node.pem"] = foreign, ["node-key.pem"] = foreignKey };
        foreach (var (name, pem) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(_dir.Path, name), pem);
        }

        string[] common = ["serve", "--data", Path.Combine(_dir.Path, "node"), "--urls", $"http://127.0.0.1:{FreePort()}", "--peer-url", $"https://127.0.0.1:{FreePort()}"];
        var environment = new Dictionary<string, string> { ["SHORTENER_CLUSTER_SECRET"] = "s3cret-s3cret" };
        foreach (var (arguments, reason) in new (string[], string)[]
        {
            (["--tls-cert", Path.Combine(_dir.Path, "node.pem")], "needs all three of --tls-cert, --tls-key and --tls-ca"),
            (["--tls-cert", Path.Combine(_dir.Path, "node.pem"), "--tls-key", Path.Combine(_dir.Path, "node-key.pem"), "--tls-ca", Path.Combine(_dir.Path, "ca.pem")], "is not signed by the authority"),
            (["--tls-cert", Path.Combine(_dir.Path, "missing.pem"), "--tls-key", Path.Combine(_dir.Path, "node-key.pem"), "--tls-ca", Path.Combine(_dir.Path, "ca.pem")], "cannot load the peer TLS files"),
        })
        {
            using var process = ShortenerProcess.Start(environment, [.. common, .. arguments]);
            var error = await process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(30_000));
            Assert.Equal(1, process.ExitCode);
            Assert.Contains(reason, error);
        }
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_exits_one_with_the_reason()
    {
        using var occupied = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((IPEndPoint)occupied.LocalEndpoint).Port;
        using var process = ShortenerProcess.Start("serve", "--data", _dir.Path, "--urls", $"http://127.0.0.1:{port}");
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("error: cannot listen", error);
    }

    private static async Task WaitUntilReady(HttpClient http, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "serve exited before it was ready");
            try
            {
                if ((await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail("serve was not ready within 30 s");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
