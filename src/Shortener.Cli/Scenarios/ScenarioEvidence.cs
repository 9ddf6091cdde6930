using Shortener.Node.Observability;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Everything a scenario run observed, from which <see cref="ScenarioFindings"/> are computed:
/// every request with its outcome (setup creates as worker -1, the final reads as workers
/// 1000 + node), every node's view of every shard twice a second, the cut, and each node's click
/// totals per link after the heal (-1 where a node could not read them), each node's click total
/// of the hot links once a second, and every node's journal
/// of the run (<see cref="JournalEntry.AtMs"/> turned into ms since the start, as far as the
/// node's wall clock agrees with the scenario's).
/// </summary>
public sealed record ScenarioEvidence(
    string Scenario,
    IReadOnlyList<ScenarioOperation> Operations,
    IReadOnlyList<LeaderSample> Samples,
    IReadOnlyDictionary<ulong, string> DcOf,
    string IsolatedDc,
    long CutStartMs,
    long CutEndMs,
    long EndMs,
    IReadOnlyDictionary<string, IReadOnlyDictionary<ulong, long>> ClickTotals,
    IReadOnlyList<JournalEntry> Journal,
    IReadOnlyList<ClickSample> ClickSamples)
{
    public const int SetupWorker = -1;
    public const int FinalReadWorker = 1000;

    public IReadOnlySet<ulong> IsolatedNodes { get; } = DcOf.Where(d => d.Value == IsolatedDc).Select(d => d.Key).ToHashSet();

    public bool DuringCut(long atMs) => atMs >= CutStartMs && atMs < CutEndMs;
}
