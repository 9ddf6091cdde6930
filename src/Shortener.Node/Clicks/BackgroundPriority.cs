using System.Runtime.InteropServices;

namespace Shortener.Node.Clicks;

/// <summary>
/// Lowers the calling thread's CPU priority (its nice value, on Linux): work that can wait, such
/// as shipping and storing clicks, then yields to requests when the CPU is busy and runs at full
/// speed when it is not. Elsewhere, or when the call fails, nothing changes.
/// </summary>
public static partial class BackgroundPriority
{
    private const int PrioProcess = 0;

    /// <returns>Whether the priority was lowered.</returns>
    public static bool Apply(int nice)
    {
        if (nice <= 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // On Linux a thread is a task of its own: setpriority on its id affects only it.
            return SetPriority(PrioProcess, GetThreadId(), Math.Min(nice, 19)) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
