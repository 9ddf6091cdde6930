using System.Runtime.InteropServices;

namespace Shortener.Cli.Cluster;

/// <summary>POSIX signals to a process (.NET's Process.Kill only sends SIGKILL).</summary>
public static partial class Signals
{
    public const int Term = 15;
    public const int Kill = 9;
    public const int Stop = 19;
    public const int Continue = 18;

    public static bool Send(int pid, int signal) => !OperatingSystem.IsWindows() && SendSignal(pid, signal) == 0;

    /// <summary>This process's parent; it changes (to a reaper) the moment the parent dies, zombie or not.</summary>
    public static int ParentProcessId() => OperatingSystem.IsWindows() ? 0 : GetParentProcessId();

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
