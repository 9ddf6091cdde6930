using Shortener.Cli.Scenarios.Disruptions;

namespace Shortener.Cli.Scenarios;

/// <summary>The scenarios `shortener scenario` runs: each a disruption, the same workload and the same checks around it.</summary>
public static class ScenarioCatalog
{
    public static readonly IReadOnlyList<ScenarioEntry> All =
    [
        new(DataCentreCut.Name, "three data centres under load; the one leading the most shards is cut off for 11 s, then healed", TimeSpan.FromSeconds(11), (dc, d) => new DataCentreCut(dc, d)),
        new(LeaderPause.Name, "the node leading the most shards freezes (SIGSTOP) for 5 s, longer than an election timeout, then wakes believing it still leads", TimeSpan.FromSeconds(5), (_, d) => new LeaderPause(d)),
        new(NodeLoss.Name, "a data centre's node is killed and its data deleted; after 10 s a replacement joins and catches up (local cluster only)", TimeSpan.FromSeconds(10), (dc, d) => new NodeLoss(dc, d)),
        new(FlakyLink.Name, "the link between two data centres drops 30% of messages each way for a minute", TimeSpan.FromSeconds(60), (dc, d) => new FlakyLink(dc, d)),
    ];

    public static ScenarioEntry? Find(string name) => All.FirstOrDefault(e => e.Name == name);
}

/// <summary>One scenario: its name, a line for --list, how long its disruption lasts unless --for says, and how to make the disruption (given --isolate and the duration).</summary>
public sealed record ScenarioEntry(string Name, string Summary, TimeSpan DefaultDuration, Func<string?, TimeSpan, Disruption> Create);
