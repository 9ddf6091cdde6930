using System.Text.Json;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>
/// `shortener scenario eleven-seconds` as a user runs it, shortened: a fresh cluster of three
/// processes, one data centre cut off under load and healed, and the findings read from --json.
/// </summary>
public sealed class ScenarioCommandTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NoRateLimits = new()
    {
        ["Shortener__RateLimits__PerKeyPerSecond"] = "0",
        ["Shortener__RateLimits__PerIpPerSecond"] = "0",
    };

    [Fact]
    public async Task Eleven_seconds_shortened_finds_no_lost_write_a_linearizable_history_exact_clicks_and_one_leader_per_term()
    {
        using var dir = new TempDirectory();
        var report = Path.Combine(dir.Path, "report.html");
        var (exit, json, stderr) = await RunAsync("scenario", "eleven-seconds", "--for", "4s", "--links", "60", "--workers", "2", "--json", "--isolate", "dc2", "--out", report);
        Assert.Equal(0, exit);
        var html = await File.ReadAllTextAsync(report);
        Assert.Contains("PASSED: every check held.", html);
        Assert.Contains("<svg id=\"leaders\"", html);
        Assert.Contains($"report written to {report}", stderr);

        var findings = JsonDocument.Parse(json).RootElement;
        Assert.Equal("dc2", findings.GetProperty("affectedDc").GetString());
        Assert.True(findings.GetProperty("linearizable").GetBoolean(), findings.GetProperty("linearizabilityDetail").GetString());
        Assert.Equal(0, findings.GetProperty("acknowledgedWritesLost").GetInt32());
        Assert.True(findings.GetProperty("clicksExact").GetBoolean());
        Assert.Equal(1, findings.GetProperty("maxLeadersInOneTerm").GetInt32());
        Assert.Equal(0, findings.GetProperty("termsRaisedByCutOffSide").GetInt32());
        Assert.True(findings.GetProperty("redirectsServedOnCutOffSide").GetInt64() > 0, "the cut-off node served no redirect");
        Assert.True(findings.GetProperty("writesAcknowledgedOnMajoritySideDuringDisruption").GetInt32() > 0, "the majority acknowledged no write during the cut");
        var inDoubt = findings.GetProperty("inDoubtRequests").GetInt32();
        Assert.Equal(inDoubt, findings.GetProperty("inDoubtFoundDone").GetInt32() + findings.GetProperty("inDoubtFoundNotDone").GetInt32() + findings.GetProperty("inDoubtStillUnknown").GetInt32());
        Assert.True(findings.GetProperty("writesRefusedOnCutOffSide").GetInt32() >= 0);
        Assert.Equal(5, findings.GetProperty("answers").GetArrayLength());
        Assert.Contains("stopping the cluster", stderr);
    }

    [Fact]
    public async Task A_frozen_leader_gives_up_leadership_only_after_it_wakes_and_no_write_it_took_is_lost()
    {
        var (exit, json, stderr) = await RunAsync("scenario", "leader-pause", "--for", "5s", "--links", "60", "--workers", "2", "--json");
        Assert.Equal(0, exit);
        Assert.Contains("with SIGSTOP for 5 s", stderr);

        var findings = JsonDocument.Parse(json).RootElement;
        AssertInvariants(findings);
        var led = findings.GetProperty("shardsLedFromCutOffSide").GetInt32();
        Assert.True(led > 0, "the paused node led no shard");
        Assert.Equal(led, findings.GetProperty("leadersMoved").GetInt32());
        Assert.True(findings.GetProperty("leadershipsTakenDuringDisruption").GetInt32() >= led);

        // Frozen, it cannot even notice it lost its quorum: its own journal says it stepped down
        // only once it ran again, 5 s or more after the pause began. (5 s, not less: detection takes
        // 1-2 s of randomized election timeout and one split vote another 1-2 s, so a 3 s pause
        // sometimes ended before every shard it led had elected a new leader.)
        Assert.True(findings.GetProperty("staleLeaderStepDownMs").GetInt64() >= 5000, findings.GetProperty("staleLeaderStepDownMs").ToString());
        Assert.Equal(0, findings.GetProperty("termsRaisedByCutOffSide").GetInt32());
    }

    [Fact]
    public async Task Losing_a_node_and_its_disk_loses_no_acknowledged_write_and_a_replacement_catches_up()
    {
        var (exit, json, stderr) = await RunAsync("scenario", "dc-loss", "--for", "4s", "--links", "60", "--workers", "2", "--json", "--isolate", "dc3");
        Assert.Equal(0, exit);
        Assert.Contains("killing node 3 (dc3)", stderr);

        var findings = JsonDocument.Parse(json).RootElement;
        AssertInvariants(findings);
        Assert.Equal([3UL], findings.GetProperty("lostNodes").EnumerateArray().Select(n => n.GetUInt64()));
        Assert.Equal(4UL, findings.GetProperty("replacementNode").GetUInt64());
        Assert.Equal(JsonValueKind.Number, findings.GetProperty("replacementCaughtUpSeconds").ValueKind);
        Assert.True(findings.GetProperty("writesAcknowledgedOnMajoritySideDuringDisruption").GetInt32() > 0, "no write was acknowledged while the node was gone");

        // The dead node's clients had their connections refused: nothing left, so refused, not in doubt.
        Assert.True(findings.GetProperty("writesRefusedOnCutOffSide").GetInt32() > 0, "no write to the dead node was refused");

        // The replacement reads every link and counts every click; the lost node is asked nothing.
        var totals = findings.GetProperty("clickTotalsByNode").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["1", "2", "4"], totals);
    }

    [Fact]
    public async Task Against_a_running_cluster_it_cuts_the_busiest_data_centre_and_refuses_one_of_two_data_centres()
    {
        await using (var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4, environment: NoRateLimits))
        {
            var url = cluster.Topology.Member(1)!.HttpUrl;
            // The report cannot be written there: the run still ends with its findings.
            var unwritable = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "report.html");
            var (exit, text, stderr) = await RunAsync("scenario", "eleven-seconds", "--server", url, "--api-key", cluster.Layout.ApiKey, "--for", "3s", "--links", "40", "--workers", "1", "--out", unwritable);
            Assert.Equal(0, exit);
            Assert.Contains($"error: the report could not be written to {unwritable}", stderr);
            Assert.Contains("PASSED: every check held.", text);
            Assert.Contains("1. Who was primary", text);
            Assert.DoesNotContain("starting a fresh", stderr);

            // The other scenarios run against it too: the pause by the node's pause fault, the
            // lossy link by each end's loss fault; losing a node is refused (it kills processes).
            foreach (var (scenario, applied) in new[] { ("leader-pause", "(its pause fault)"), ("flaky-link", "drops 30% of messages each way") })
            {
                (exit, var json, stderr) = await RunAsync("scenario", scenario, "--server", url, "--api-key", cluster.Layout.ApiKey, "--for", "3s", "--links", "40", "--workers", "1", "--json");
                Assert.True(exit == 0, $"{scenario}: {stderr}");
                Assert.Contains(applied, stderr);
                AssertInvariants(JsonDocument.Parse(json).RootElement);
            }

            (exit, _, stderr) = await RunAsync("scenario", "dc-loss", "--server", url, "--api-key", cluster.Layout.ApiKey);
            Assert.Equal(1, exit);
            Assert.Contains("runs only on the fresh local cluster", stderr);
            Assert.Equal("none", (await cluster.RequireViewAsync(1)).Faults);
        }

        await using (var two = await TestCluster.StartAsync(nodes: 3, dcs: 2, shards: 2))
        {
            var (exit, _, error) = await RunAsync("scenario", "eleven-seconds", "--server", two.Topology.Member(1)!.HttpUrl, "--api-key", two.Layout.ApiKey);
            Assert.Equal(1, exit);
            Assert.Contains("needs a cluster in at least 3 data centres", error);
        }
    }

    [Fact]
    public async Task A_cluster_whose_nodes_take_no_faults_is_refused_with_the_reason_and_left_alone()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 2, environment: NoRateLimits, allowFaults: false);
        var url = cluster.Topology.Member(1)!.HttpUrl;
        var (exit, _, stderr) = await RunAsync("scenario", "eleven-seconds", "--server", url, "--api-key", cluster.Layout.ApiKey, "--for", "2s", "--links", "20", "--workers", "1");
        Assert.Equal(1, exit);
        Assert.Contains("takes no injected faults: the cluster's nodes must run with --allow-faults", stderr);

        (exit, _, stderr) = await RunAsync("fault", "partition", "--isolate", "dc3", "--for", "5s", "--server", url, "--api-key", cluster.Layout.ApiKey);
        Assert.NotEqual(0, exit);
        Assert.Contains("--allow-faults", stderr);

        Assert.Equal("none", (await cluster.RequireViewAsync(1)).Faults);
        await cluster.CreateAsync(2, "https://example.com/untouched");
    }

    /// <summary>What every scenario must find, whatever it did.</summary>
    private static void AssertInvariants(JsonElement findings)
    {
        Assert.True(findings.GetProperty("passed").GetBoolean(), string.Join("\n", findings.GetProperty("answers").EnumerateArray()));
        Assert.True(findings.GetProperty("linearizable").GetBoolean(), findings.GetProperty("linearizabilityDetail").GetString());
        Assert.Equal(0, findings.GetProperty("acknowledgedWritesLost").GetInt32());
        Assert.True(findings.GetProperty("clicksExact").GetBoolean());
        Assert.Equal(1, findings.GetProperty("maxLeadersInOneTerm").GetInt32());
    }

    [Fact]
    public async Task Stopped_mid_cut_it_heals_stops_its_nodes_and_removes_their_directory()
    {
        using var scenario = ShortenerProcess.Start("scenario", "eleven-seconds", "--links", "30", "--workers", "1", "--for", "30s");
        string? dir = null;
        var seen = new System.Text.StringBuilder();
        while (await scenario.StandardError.ReadLineAsync() is { } line)
        {
            seen.AppendLine(line);
            dir ??= System.Text.RegularExpressions.Regex.Match(line, @"\((/[^)]*shortener-scenario-[^)]*)\)") is { Success: true } m ? m.Groups[1].Value : null;
            if (line.Contains("cutting", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.True(dir is not null && Directory.Exists(dir), "no cluster directory named: " + seen);
        await Task.Delay(1500);
        Assert.True(Cli.Cluster.Signals.Send(scenario.Id, Cli.Cluster.Signals.Term));
        var rest = await scenario.StandardError.ReadToEndAsync();
        Assert.True(scenario.WaitForExit(60_000), "the scenario did not stop within a minute of SIGTERM");
        output.WriteLine(seen + rest);
        Assert.Equal(1, scenario.ExitCode);
        Assert.Contains("stopped before the end", rest);
        Assert.False(Directory.Exists(dir), $"{dir} is still there");
    }

    [Fact]
    public async Task The_scenarios_are_listed_and_a_wrong_name_or_duration_is_a_usage_error()
    {
        var (exit, listed, _) = await RunAsync("scenario", "--list");
        Assert.Equal(0, exit);
        Assert.Contains("eleven-seconds", listed);

        foreach (var (args, message) in new[]
        {
            (new[] { "scenario", "twelve-seconds" }, "no scenario 'twelve-seconds'"),
            (new[] { "scenario", "eleven-seconds", "--for", "soon" }, "--for must be a duration"),
            (new[] { "scenario", "eleven-seconds", "--links", "3" }, "--links must be"),
        })
        {
            var (code, _, error) = await RunAsync(args);
            Assert.Equal(2, code);
            Assert.Contains(message, error);
        }
    }

    /// <summary>Runs the CLI to its end (at most 3 minutes), with what it printed in the test's output.</summary>
    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = ShortenerProcess.Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(180_000), "the scenario did not finish within 3 minutes");
        output.WriteLine(await stderr);
        output.WriteLine(await stdout);
        return (process.ExitCode, await stdout, await stderr);
    }
}
