using System.Diagnostics;

namespace Shortener.Tests;

/// <summary>The `shortener` executable of the test's output directory as a child process, output redirected, with no API key or cluster secret inherited.</summary>
public static class ShortenerProcess
{
    public static Process Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts it with <paramref name="environment"/> set on top of the cleaned environment.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "shortener.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("SHORTENER_API_KEY");
        info.Environment.Remove("SHORTENER_CLUSTER_SECRET");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }
}
