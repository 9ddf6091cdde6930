using System.CommandLine;
using System.Net;
using System.Text.Json;
using Shortener.Cli.Cluster;
using Shortener.Cli.Scenarios;
using Shortener.Cli.Scenarios.Disruptions;
using Shortener.Node.Api;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener scenario NAME`: replays a failure story against a fresh local cluster (in a
/// temporary directory, removed afterwards) or a running one (--server), checks what must hold,
/// and answers the questions the story raises. Exit code 0 when every check held, 1 when one
/// failed or the scenario could not run, 2 for bad usage.
/// </summary>
public static class ScenarioCommand
{
    public static Command Create()
    {
        var connection = new ServerConnection();
        var server = new Option<string?>("--server") { Description = "Run against this running cluster (any node's URL) instead of a fresh local one" };
        var name = new Argument<string?>("name") { Description = "The scenario to run (see --list)", Arity = ArgumentArity.ZeroOrOne };
        var list = new Option<bool>("--list") { Description = "Name the scenarios and stop" };
        var isolate = new Option<string?>("--isolate") { Description = "Data centre the disruption hits: cut off (eleven-seconds), lost (dc-loss), one end of the link (flaky-link); default: the one leading the most shards" };
        var cut = new Option<string?>("--for") { Description = "How long the disruption lasts: 11s, 500ms, 1m (default: the scenario's own, see --list)" };
        var json = new Option<bool>("--json") { Description = "Print the findings as one JSON object (progress still goes to stderr)" };
        var report = new Option<string?>("--out") { Description = "Also write the report as one self-contained HTML page (charts included) to this file" };
        var seed = new Option<int>("--seed") { Description = "Seed of the workload's choices", DefaultValueFactory = _ => 1 };
        var links = new Option<int>("--links") { Description = "Links created before the workload starts", DefaultValueFactory = _ => 200 };
        var workers = new Option<int>("--workers") { Description = "Client workers per node", DefaultValueFactory = _ => 3 };
        var command = new Command("scenario", "Replay a failure story on a cluster and answer what happened: shortener scenario eleven-seconds")
        {
            name, list, server, connection.ApiKey, isolate, cut, json, report, seed, links, workers,
        };
        command.SetAction(async (parse, invocationToken) =>
        {
            // Ctrl-C and SIGTERM stop the run cleanly (heal the cut, stop the local nodes, remove
            // their directory) instead of ending the process two seconds later, half way.
            using var stop = new GracefulStop(invocationToken);
            var cancellationToken = stop.Token;

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(list))
            {
                foreach (var scenario in ScenarioCatalog.All)
                {
                    await output.WriteLineAsync($"{scenario.Name,-16} {scenario.Summary}");
                }

                return 0;
            }

            var chosen = parse.GetValue(name);
            var names = string.Join(", ", ScenarioCatalog.All.Select(e => e.Name));
            if ((chosen is null ? null : ScenarioCatalog.Find(chosen)) is not { } entry)
            {
                await error.WriteLineAsync(chosen is null
                    ? $"error: name a scenario: {names} (shortener scenario --list)"
                    : $"error: no scenario '{chosen}'; there are {names} (shortener scenario --list)");
                return 2;
            }

            var duration = entry.DefaultDuration;
            if (parse.GetValue(cut) is { } given && (!FaultCommand.TryParseDuration(given, out duration) || duration > TimeSpan.FromMinutes(10)))
            {
                await error.WriteLineAsync($"error: --for must be a duration up to 10m such as 11s or 500ms; got '{parse.GetValue(cut)}'");
                return 2;
            }

            if (parse.GetValue(links) is < ScenarioLinks.Registers + ScenarioLinks.HotLinks + 1 or > 10_000 || parse.GetValue(workers) is < 1 or > 32)
            {
                await error.WriteLineAsync($"error: --links must be {ScenarioLinks.Registers + ScenarioLinks.HotLinks + 1} to 10000 and --workers 1 to 32");
                return 2;
            }

            var disruption = entry.Create(parse.GetValue(isolate), duration);
            var settings = new ScenarioSettings
            {
                Seed = parse.GetValue(seed),
                Links = parse.GetValue(links),
                WorkersPerNode = parse.GetValue(workers),
            };
            try
            {
                var evidence = parse.GetValue(server) is { } url
                    ? await RunAgainstAsync(url, connection.ResolveApiKey(parse), settings, disruption, error, cancellationToken)
                    : await RunLocalAsync(settings, disruption, error, cancellationToken);
                if (evidence is null)
                {
                    return 1;
                }

                var findings = ScenarioFindings.From(evidence);
                if (parse.GetValue(report) is { } path)
                {
                    try
                    {
                        await File.WriteAllTextAsync(path, ScenarioReport.Render(findings, evidence), cancellationToken);
                        await error.WriteLineAsync($"report written to {Path.GetFullPath(path)}");
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // The findings still print: the run is not lost for want of a file.
                        await error.WriteLineAsync($"error: the report could not be written to {path}: {e.Message}");
                    }
                }
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(findings, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
                }
                else
                {
                    await PrintAsync(findings, output);
                }

                return findings.Passed ? 0 : 1;
            }
            catch (ScenarioException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync("stopped before the end: no findings");
                return 1;
            }
        });
        return command;
    }

    private static async Task PrintAsync(ScenarioFindings findings, TextWriter output)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync($"What happened ({findings.Disruption}):");
        for (var i = 0; i < findings.Answers.Count; i++)
        {
            await output.WriteLineAsync($"  {i + 1}. {findings.Answers[i]}");
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync($"  linearizable: {Mark(findings.Linearizable)}   acknowledged writes lost: {findings.AcknowledgedWritesLost}   clicks exact: {Mark(findings.ClicksExact)}   most leaders in one term: {findings.MaxLeadersInOneTerm}");
        if (!findings.Linearizable)
        {
            await output.WriteLineAsync("  " + findings.LinearizabilityDetail);
        }

        foreach (var lost in findings.LostWrites.Take(10))
        {
            await output.WriteLineAsync("  lost: " + lost);
        }

        await output.WriteLineAsync(findings.Passed ? "PASSED: every check held." : "FAILED: a check did not hold (above).");
    }

    private static string Mark(bool ok) => ok ? "yes" : "NO";

    /// <summary>The cluster behind <paramref name="url"/>: its members from the node's own view.</summary>
    private static async Task<ScenarioEvidence?> RunAgainstAsync(string url, string? apiKey, ScenarioSettings settings, Disruption disruption, TextWriter progress, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ScenarioException($"--server must be an http or https URL, got '{url}'");
        }

        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        ClusterView? view;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/cluster");
            if (apiKey is not null)
            {
                request.Headers.Add("X-Api-Key", apiKey);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ScenarioException($"{url} answered {(int)response.StatusCode} to /admin/v1/cluster{(response.StatusCode == HttpStatusCode.Unauthorized ? "; pass the cluster's key with --api-key" : string.Empty)}");
            }

            view = JsonSerializer.Deserialize<ClusterView>(await response.Content.ReadAsStringAsync(cancellationToken), JsonSerializerOptions.Web);
        }
        catch (HttpRequestException e)
        {
            throw new ScenarioException($"cannot reach {url}: {e.Message}");
        }

        var members = view!.Members.Where(m => !m.Leaving).ToList();
        var target = new ScenarioTarget(members.ToDictionary(m => m.Id, m => new Uri(m.HttpUrl)), members.ToDictionary(m => m.Id, m => m.Dc), apiKey);
        if ((target.Unsuitable() ?? disruption.Unsuitable(target, local: false)) is { } why)
        {
            throw new ScenarioException(why);
        }

        return await new ScenarioRunner(target, settings, disruption, null, progress).RunAsync(cancellationToken);
    }

    /// <summary>A fresh three-node cluster in three data centres, in a temporary directory removed afterwards.</summary>
    private static async Task<ScenarioEvidence?> RunLocalAsync(ScenarioSettings settings, Disruption disruption, TextWriter progress, CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("shortener-scenario-");
        try
        {
            var port = FreePorts.Range(3, avoid: -1);
            var peerPort = FreePorts.Range(3, avoid: port);
            var layout = LocalClusterLayout.OpenOrCreate(dir.FullName, () => LocalClusterLayout.Plan(3, 3, 8, port, peerPort), null, null);
            await progress.WriteLineAsync($"starting a fresh 3-node cluster in 3 data centres ({dir.FullName})...");
            await using var cluster = LocalCluster.Start(layout, new Dictionary<string, string>
            {
                // The scenario's own clients come from one address in bursts; the limits protect a real cluster from that.
                ["Shortener__RateLimits__PerKeyPerSecond"] = "0",
                ["Shortener__RateLimits__PerIpPerSecond"] = "0",
            });
            if (await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(60), progress, cancellationToken) is { } notReady)
            {
                throw new ScenarioException(notReady);
            }

            var members = layout.Topology.Members;
            var target = new ScenarioTarget(members.ToDictionary(m => m.Id, m => new Uri(m.HttpUrl)), members.ToDictionary(m => m.Id, m => m.Dc), layout.ApiKey);
            if ((target.Unsuitable() ?? disruption.Unsuitable(target, local: true)) is { } why)
            {
                throw new ScenarioException(why);
            }

            var evidence = await new ScenarioRunner(target, settings, disruption, cluster, progress).RunAsync(cancellationToken);
            await progress.WriteLineAsync("stopping the cluster...");
            return evidence;
        }
        finally
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temp cleaner; the findings do not depend on it.
            }
        }
    }
}
