using System.Diagnostics;

namespace Shortener.Node.Tests;

/// <summary>
/// Shlink's own JS SDK (@shlinkio/shlink-js-sdk, pinned in tests/shlink-sdk) calls every endpoint
/// the compatibility table marks supported against a node, and checks the answers
/// (tests/shlink-sdk/check.mjs). Needs Node.js and npm, which .ci/run installs.
/// </summary>
[Collection(ProcessWideMetrics.Name)]
public sealed class ShlinkSdkTests : NodeTest
{
    [SkippableFact]
    public async Task The_js_sdks_calls_succeed()
    {
        Skip.If(Which("node") is null || Which("npm") is null, "Node.js and npm are not installed (.ci/run installs them: apt-get install nodejs npm)");
        var project = Path.Combine(RepositoryRoot(), "tests", "shlink-sdk");
        if (!Directory.Exists(Path.Combine(project, "node_modules", "@shlinkio", "shlink-js-sdk")))
        {
            var (installed, log) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], project, TimeSpan.FromMinutes(3));
            Assert.True(installed == 0, $"npm ci failed: {log}");
        }

        var (code, output) = await RunAsync("node", ["check.mjs", Node.BaseUrl.TrimEnd('/'), TestNode.Key], project, TimeSpan.FromMinutes(1));
        Assert.True(code == 0, output);
        Assert.Matches(@"ok \d+ calls", output);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} took longer than {timeout}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shortener.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no Shortener.slnx above " + AppContext.BaseDirectory);
    }
}
