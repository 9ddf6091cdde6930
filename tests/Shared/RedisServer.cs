using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Shortener.Tests;

/// <summary>
/// A real redis-server on a free loopback port, for the sink tests: no persistence, its own
/// directory, killed on dispose. With <c>durable</c> it writes an append-only file synced on every
/// write, so a kill -9 and a start again lose nothing. <see cref="Unavailable"/> says why tests must skip when Debian's
/// redis-server is not installed (.ci/run installs it).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("shortener-redis-").FullName;
    private Process? _process;

    private readonly bool _durable;

    private RedisServer(int port, bool durable) => (Port, _durable) = (port, durable);

    public int Port { get; }

    public string Url => $"redis://127.0.0.1:{Port}";

    public static string? Unavailable =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, "redis-server"))) == true
            ? null
            : "redis-server is not installed (.ci/run installs it: apt-get install redis-server)";

    public static async Task<RedisServer> StartAsync(bool durable = false)
    {
        var server = new RedisServer(FreePort(), durable);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts it (again, after <see cref="Kill"/>) on the same port, and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server", ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", _durable ? "yes" : "no", "--appendfsync", "always", "--dir", _directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
    }

    public async Task<ConnectionMultiplexer> ConnectAsync() =>
        await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { { "127.0.0.1", Port } }, AbortOnConnectFail = false });

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        await Task.Yield();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
