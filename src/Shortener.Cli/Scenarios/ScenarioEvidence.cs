using Shortener.Core.Clocks;
using Shortener.Node.Observability;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Everything a scenario run observed, from which <see cref="ScenarioFindings"/> are computed:
/// every request with its outcome (setup creates as worker -1, the final reads as workers
/// 1000 + node), every node's view of every shard twice a second, the cut, and each node's click
/// totals per link after the heal (-1 where a node could not read them), each node's click total
/// of the hot links once a second, and every node's journal of the run (see <see cref="CausalTimeline"/>).
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

    /// <summary>
    /// Journal entries of several nodes as one timeline: those stamped at or after
    /// <paramref name="startUnixMs"/>, ordered by their hybrid logical clock (ties by node and
    /// sequence), so an entry one node wrote because of another's message comes after that
    /// node's entries before the send, even when its wall clock is behind. Each entry's
    /// <see cref="JournalEntry.AtMs"/> becomes its stamp's milliseconds since the start, the time
    /// the findings and the report use.
    /// </summary>
    public static IReadOnlyList<JournalEntry> CausalTimeline(IEnumerable<JournalEntry> entries, long startUnixMs) =>
        entries.Where(e => e.Hlc.WallMs >= startUnixMs)
            .OrderBy(e => e.Hlc).ThenBy(e => e.Node).ThenBy(e => e.Seq)
            .Select(e => e with { AtMs = e.Hlc.WallMs - startUnixMs })
            .ToList();
}
