using System.Diagnostics;
using System.Globalization;

namespace Shortener.Cli.Cluster;

/// <summary>
/// One node as a child process of this program (the same executable, `serve`), its output appended
/// to a log file. It watches this process and stops itself if this one dies, so no node outlives
/// the `up` (or test) that started it.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private NodeProcess(ulong id, Process process, StreamWriter log, string logPath)
    {
        Id = id;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public ulong Id { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <param name="wrapper">A command to run the node under, e.g. ["ip", "netns", "exec", "ns1"] (it must exec the node in place).</param>
    public static NodeProcess Start(ulong id, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string logPath, IReadOnlyList<string>? wrapper = null)
    {
        var (executable, prefix) = Executable();
        if (wrapper is { Count: > 0 })
        {
            prefix = [.. wrapper.Skip(1), executable, .. prefix];
            executable = wrapper[0];
        }

        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add("--exit-with-parent");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new NodeProcess(id, process, log, logPath);
    }

    /// <summary>SIGTERM, then up to <paramref name="grace"/> to exit, then SIGKILL. Returns true if it stopped on its own.</summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        Signals.Send(_process.Id, Signals.Continue);
        Signals.Send(_process.Id, Signals.Term);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>kill -9: no shutdown, no flush.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGSTOP / SIGCONT: the process freezes and thaws with its sockets open.</summary>
    public void Pause() => Signals.Send(_process.Id, Signals.Stop);

    public void Resume() => Signals.Send(_process.Id, Signals.Continue);

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>How to run this program again: its own apphost, or dotnet with its dll.</summary>
    private static (string Executable, string[] Prefix) Executable()
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var assembly = Path.Combine(AppContext.BaseDirectory, "shortener.dll");
        var host = Path.GetFileNameWithoutExtension(self);
        return host == "shortener" ? (self, []) : ("dotnet", [assembly]);
    }
}
