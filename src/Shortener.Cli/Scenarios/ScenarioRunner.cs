using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Shortener.Cli.Cluster;
using Shortener.Cli.Scenarios.Disruptions;
using Shortener.Node.Api;
using Shortener.Node.Observability;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Runs a scenario: three data centres under a steady workload while a <see cref="Disruption"/>
/// does its damage. In phases: create the links; start the workload and the samplers; start the
/// disruption, report each second while it lasts, end it (even when the run is stopped, so no
/// cluster is left cut off or frozen); let the workload go on; stop it; retry every write that
/// ended in doubt with its idempotency key; read every link on every node and every node's click
/// totals until they settle; read the journals. What it saw is the evidence
/// <see cref="ScenarioFindings"/> are computed from. Progress goes to a writer line by line.
/// </summary>
public sealed class ScenarioRunner(ScenarioTarget target, ScenarioSettings settings, Disruption disruption, LocalCluster? local, TextWriter progress)
{
    private const int SetupConcurrency = 8;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly long _startUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public async Task<ScenarioEvidence> RunAsync(CancellationToken cancellationToken)
    {
        var run = "sc" + settings.Seed.ToString("x", CultureInfo.InvariantCulture) + Convert.ToHexString(BitConverter.GetBytes(Environment.TickCount64))[..6].ToLowerInvariant();
        var links = new ScenarioLinks(run, settings.Links);
        using var client = new ScenarioClient(target.Nodes, target.ApiKey, _clock);
        var workload = new ScenarioWorkload(client, links, settings.WorkersPerNode, settings.Seed);
        var sampler = new LeaderSampler(client);
        var clickSampler = new ClickSampler(client, links.HotCodes);
        var context = new ScenarioContext(target, client, workload, sampler, local, progress);

        await Say($"creating {links.Count} links (prefix {run}) through {target.Nodes.Count} nodes...");
        await CreateLinksAsync(client, links, workload, cancellationToken);

        using var stopSampler = new CancellationTokenSource();
        var sampling = Task.WhenAll(sampler.RunAsync(stopSampler.Token), clickSampler.RunAsync(stopSampler.Token));
        using var stopWorkload = new CancellationTokenSource();
        var working = workload.RunAsync(stopWorkload.Token);
        await Say($"workload running: {settings.WorkersPerNode} workers per node (updates, linearizable reads, creates) and one redirecting");
        await Task.Delay(settings.Before, cancellationToken);

        DisruptionStarted started;
        var disruptionStart = 0L;
        long disruptionEnd;
        DisruptionEnded ended;
        var stopping = true;
        try
        {
            started = await disruption.StartAsync(context, cancellationToken);
            disruptionStart = _clock.ElapsedMilliseconds;
            for (var second = 1; second <= (int)Math.Ceiling(disruption.Duration.TotalSeconds); second++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, disruption.Duration.TotalMilliseconds - ((second - 1) * 1000))), cancellationToken);
                var during = workload.History.Where(o => o.InvokeMs >= disruptionStart && o.IsWrite).ToList();
                var hit = started.AffectedNodes;
                await Say($"  {second,2} s: node {string.Join(", ", hit)} acknowledged {during.Count(o => hit.Contains(o.Node) && o.Outcome == ScenarioOutcome.Ok)}, refused {during.Count(o => hit.Contains(o.Node) && o.Outcome == ScenarioOutcome.Refused)} write(s); {during.Count(o => o.Outcome == ScenarioOutcome.InDoubt)} in doubt; the rest acknowledged {during.Count(o => !hit.Contains(o.Node) && o.Outcome == ScenarioOutcome.Ok)}");
            }

            stopping = false;
        }
        finally
        {
            // The disruption ends here, when its undoing is sent (what a node says after that may
            // already be healed); undone too when it failed half way through starting.
            disruptionEnd = _clock.ElapsedMilliseconds;
            ended = await disruption.EndAsync(context, stopping);
        }

        await Say($"ended after {(disruptionEnd - disruptionStart) / 1000.0:0.0} s; workload goes on for {settings.After.TotalSeconds:0.#} s");
        await Task.Delay(settings.After, cancellationToken);
        await stopWorkload.CancelAsync();
        await working;

        var settleBy = DateTime.UtcNow + settings.Settle;
        var history = workload.History.ToList();
        var doubts = history.Where(o => o.IsWrite && o.Outcome == ScenarioOutcome.InDoubt).ToList();
        await Say($"workload stopped: {history.Count} requests; retrying {doubts.Count} in-doubt write(s) with their idempotency keys...");
        var resolved = await ResolveAsync(client, doubts, settleBy, cancellationToken);
        var operations = history.Where(o => !(o.IsWrite && o.Outcome == ScenarioOutcome.InDoubt)).Concat(resolved).ToList();

        var codes = operations.Where(o => o.IsWrite && o.Outcome != ScenarioOutcome.Refused).Select(o => o.Code).Distinct().ToList();
        await Say($"reading {codes.Count} links on every node...");
        operations.AddRange(await FinalReadsAsync(client, codes, settleBy, cancellationToken));

        var clicked = operations.Where(o => o.Kind == ScenarioOperationKind.Redirect).Select(o => o.Code).Distinct().ToList();
        await Say($"waiting for every node's click totals of {clicked.Count} links to settle...");
        var totals = await ClickTotalsAsync(client, clicked, operations, started.LostNodes, settleBy, cancellationToken);

        await sampler.SampleAsync(cancellationToken);
        await stopSampler.CancelAsync();
        await sampling;
        var end = _clock.ElapsedMilliseconds;
        var journal = await JournalsAsync(client, cancellationToken);
        await Say($"read {journal.Count} journal entries from {journal.Select(e => e.Node).Distinct().Count()} nodes");
        return new ScenarioEvidence(disruption.Scenario, operations, sampler.Samples.ToList(), context.DcOf, started, disruptionStart, disruptionEnd, end, totals, journal, clickSampler.Samples.ToList())
        {
            Ended = ended,
        };
    }

    private Task Say(string line) => progress.WriteLineAsync(line);

    /// <summary>
    /// Every node's journal entries from the scenario's start on, in causal order (by their hybrid
    /// logical clock stamps, which every peer message carries), their times moved to the scenario's
    /// clock.
    /// </summary>
    private async Task<IReadOnlyList<JournalEntry>> JournalsAsync(ScenarioClient client, CancellationToken cancellationToken)
    {
        var entries = new List<JournalEntry>();
        foreach (var node in client.Nodes.Order())
        {
            long after = 0;
            while (await client.GetJsonAsync<JournalPage>(node, $"/admin/v1/journal?after={after}&limit=10000", cancellationToken) is { Entries.Count: > 0 } page)
            {
                entries.AddRange(page.Entries);
                after = page.Next;
            }
        }

        return ScenarioEvidence.CausalTimeline(entries, _startUnixMs);
    }

    /// <summary>The data centre whose nodes lead the most shards now (ties: the lowest name), so that cutting it off moves leaders.</summary>
    internal static string BusiestDc(IEnumerable<LeaderSample> samples, IReadOnlyDictionary<ulong, string> dcOf) =>
        LeaderSample.LeadersByShard(samples).Select(s => s.Node)
            .Where(dcOf.ContainsKey).GroupBy(n => dcOf[n]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).FirstOrDefault() ?? dcOf.Values.Order(StringComparer.Ordinal).Last();

    /// <summary>The setup links, several at a time, each retried with its key until acknowledged.</summary>
    private async Task CreateLinksAsync(ScenarioClient client, ScenarioLinks links, ScenarioWorkload workload, CancellationToken cancellationToken)
    {
        var nodes = target.Nodes.Keys.Order().ToArray();
        await Parallel.ForAsync(0, links.Count, new ParallelOptions { MaxDegreeOfParallelism = SetupConcurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var invoke = client.NowMs;
            for (var attempt = 0; ; attempt++)
            {
                var created = await client.CreateAsync(ScenarioEvidence.SetupWorker, nodes[i % nodes.Length], links.Setup(i), links.SetupUrl(i), links.Setup(i) + "-setup", ct);
                if (created.Outcome == ScenarioOutcome.Ok)
                {
                    workload.Record(created with { InvokeMs = invoke });
                    return;
                }

                if (attempt >= 20)
                {
                    throw new ScenarioException($"link {links.Setup(i)} could not be created: {created.Status}");
                }

                await Task.Delay(250, ct);
            }
        });
    }

    private static async Task<IReadOnlyList<ScenarioOperation>> ResolveAsync(ScenarioClient client, IReadOnlyList<ScenarioOperation> doubts, DateTime settleBy, CancellationToken cancellationToken)
    {
        var resolved = new ConcurrentBag<ScenarioOperation>();
        await Parallel.ForEachAsync(doubts, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (doubt, ct) =>
        {
            var outcome = doubt;
            while (true)
            {
                // On its own node, unless that node is gone: any node forwards to the shard's leader.
                outcome = await client.ResolveAsync(doubt, client.Nodes.Contains(doubt.Node) ? doubt.Node : client.Nodes.Min(), ct);
                if (outcome.Resolution != DoubtResolution.StillUnknown || DateTime.UtcNow > settleBy)
                {
                    break;
                }

                await Task.Delay(500, ct);
            }

            resolved.Add(outcome);
        });
        return [.. resolved];
    }

    /// <summary>Every link read on every node (linearizable), each retried while the node cannot answer yet.</summary>
    private static async Task<IReadOnlyList<ScenarioOperation>> FinalReadsAsync(ScenarioClient client, IReadOnlyList<string> codes, DateTime settleBy, CancellationToken cancellationToken)
    {
        var reads = new ConcurrentBag<ScenarioOperation>();
        var work = client.Nodes.SelectMany(n => codes.Select(c => (Node: n, Code: c))).ToList();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            while (true)
            {
                var read = await client.ReadAsync(ScenarioEvidence.FinalReadWorker + (int)item.Node, item.Node, item.Code, ct);
                if (read.Outcome == ScenarioOutcome.Ok || DateTime.UtcNow > settleBy)
                {
                    reads.Add(read);
                    return;
                }

                await Task.Delay(250, ct);
            }
        });
        return [.. reads];
    }

    /// <summary>
    /// Each node's click total of each redirected link (read from all replicas), asked again until
    /// the nodes agree and the total is within the range the redirects allow (<see cref="ScenarioEvidence.ClickRange"/>), or time is up.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<ulong, long>>> ClickTotalsAsync(ScenarioClient client, IReadOnlyList<string> codes, IReadOnlyList<ScenarioOperation> operations, IReadOnlyList<ulong> lostNodes, DateTime settleBy, CancellationToken cancellationToken)
    {
        var redirects = operations.Where(o => o.Kind == ScenarioOperationKind.Redirect).ToLookup(o => o.Code);
        var totals = new ConcurrentDictionary<string, IReadOnlyDictionary<ulong, long>>();
        var pending = codes.ToList();
        while (pending.Count > 0)
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (code, ct) =>
            {
                var byNode = new Dictionary<ulong, long>();
                foreach (var node in client.Nodes.Order())
                {
                    var stats = await client.GetJsonAsync<ClickStatsResponse>(node, $"/api/v1/links/{code}/stats?consistency=all", ct);
                    byNode[node] = stats?.Total ?? -1;
                }

                totals[code] = byNode;
            });

            pending = pending.Where(code =>
            {
                var (min, max) = ScenarioEvidence.ClickRange(redirects[code], lostNodes);
                var values = totals[code].Values;
                return values.Distinct().Count() != 1 || values.Any(t => t < min || t > max);
            }).ToList();
            if (pending.Count == 0 || DateTime.UtcNow > settleBy)
            {
                break;
            }

            await Task.Delay(1000, cancellationToken);
        }

        return totals;
    }
}
