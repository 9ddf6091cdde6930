using System.Diagnostics;

namespace Shortener.Cluster.Tests;

/// <summary>
/// One network namespace per node, joined by a bridge in this namespace: node i at 10.77.S.(10+i),
/// this test process at 10.77.S.1 (S random per network, so runs do not collide). Partitions are
/// iptables DROP rules inside the namespaces; the bridge, veths and namespaces are removed on
/// dispose. Needs root and the ip and iptables tools; <see cref="Unavailable"/> says why not.
/// </summary>
public sealed class NamespaceNetwork : IDisposable
{
    private readonly string _tag = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private readonly List<string> _namespaces = [];

    public NamespaceNetwork(int nodes)
    {
        Bridge = $"shb{_tag}";
        try
        {
            Run("ip", "link", "add", Bridge, "type", "bridge");
            Run("ip", "addr", "add", $"10.77.{_subnet}.1/24", "dev", Bridge);
            Run("ip", "link", "set", Bridge, "up");
            for (var i = 1; i <= nodes; i++)
            {
                var ns = $"sh{_tag}n{i}";
                var host = $"shv{_tag}{i}";
                var peer = $"shp{_tag}{i}";
                Run("ip", "netns", "add", ns);
                _namespaces.Add(ns);
                Run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
                Run("ip", "link", "set", peer, "netns", ns);
                Run("ip", "link", "set", host, "master", Bridge);
                Run("ip", "link", "set", host, "up");
                Run("ip", "netns", "exec", ns, "ip", "addr", "add", $"{Address(i)}/24", "dev", peer);
                Run("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up");
                Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Bridge { get; }

    /// <summary>Null when namespaces and iptables can be used here, else the reason they cannot.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root")
        {
            return $"network namespaces and iptables need root (running as {Environment.UserName})";
        }

        foreach (var tool in new[] { "ip", "iptables" })
        {
            if (!new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Any(d => File.Exists(Path.Combine(d, tool))))
            {
                return $"the {tool} command is not installed";
            }
        }

        var probe = $"shprobe{Random.Shared.Next(10_000)}";
        var (code, error) = TryRun("ip", "netns", "add", probe);
        if (code != 0)
        {
            return $"cannot create a network namespace: {error.Trim()}";
        }

        var (iptables, iptablesError) = TryRun("ip", "netns", "exec", probe, "iptables", "-L", "-n");
        TryRun("ip", "netns", "del", probe);
        return iptables == 0 ? null : $"iptables does not work in a namespace: {iptablesError.Trim()}";
    }

    public string Address(int node) => $"10.77.{_subnet}.{10 + node}";

    public IReadOnlyList<string> Wrapper(int node) => ["ip", "netns", "exec", _namespaces[node - 1]];

    /// <summary>Drops all traffic between <paramref name="node"/> and every other node, both ways, on both sides (this test process can still reach it).</summary>
    public void Isolate(int node)
    {
        for (var other = 1; other <= _namespaces.Count; other++)
        {
            if (other == node)
            {
                continue;
            }

            Drop(node, Address(other));
            Drop(other, Address(node));
        }
    }

    public void Heal()
    {
        foreach (var ns in _namespaces)
        {
            Run("ip", "netns", "exec", ns, "iptables", "-F");
        }
    }

    public void Dispose()
    {
        foreach (var ns in _namespaces)
        {
            TryRun("ip", "netns", "del", ns);
        }

        for (var i = 1; i <= _namespaces.Count; i++)
        {
            TryRun("ip", "link", "del", $"shv{_tag}{i}");
        }

        TryRun("ip", "link", "del", Bridge);
    }

    private void Drop(int node, string address)
    {
        var ns = _namespaces[node - 1];
        Run("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-s", address, "-j", "DROP");
        Run("ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-d", address, "-j", "DROP");
    }

    private static void Run(params string[] command)
    {
        var (code, error) = TryRun(command);
        if (code != 0)
        {
            throw new InvalidOperationException($"`{string.Join(' ', command)}` failed ({code}): {error.Trim()}");
        }
    }

    private static (int Code, string Error) TryRun(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
