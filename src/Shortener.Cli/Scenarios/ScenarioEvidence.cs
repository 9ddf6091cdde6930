using Shortener.Cli.Scenarios.Disruptions;
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
    DisruptionStarted Disruption,
    long DisruptionStartMs,
    long DisruptionEndMs,
    long EndMs,
    IReadOnlyDictionary<string, IReadOnlyDictionary<ulong, long>> ClickTotals,
    IReadOnlyList<JournalEntry> Journal,
    IReadOnlyList<ClickSample> ClickSamples)
{
    public const int SetupWorker = -1;
    public const int FinalReadWorker = 1000;

    /// <summary>How the disruption ended (a replacement node, if one joined).</summary>
    public DisruptionEnded Ended { get; init; } = new();

    /// <summary>The data centre the disruption hit (for a link, its two ends joined by '-').</summary>
    public string AffectedDc => Disruption.AffectedDc;

    /// <summary>The nodes the disruption hit: "the cut-off side" of the findings.</summary>
    public IReadOnlySet<ulong> AffectedNodes { get; } = Disruption.AffectedNodes.ToHashSet();

    public bool DuringDisruption(long atMs) => atMs >= DisruptionStartMs && atMs < DisruptionEndMs;

    /// <summary>
    /// The click total a link's <paramref name="redirects"/> allow: at least those answered (a 30x)
    /// by a node that survived, at most every one answered plus those that got no answer (which may
    /// have been served). A redirect answered by a node whose data was destroyed counts only in the
    /// upper bound: its click may have been handed on before the loss, or not.
    /// </summary>
    public static (long Min, long Max) ClickRange(IEnumerable<ScenarioOperation> redirects, IReadOnlyCollection<ulong> lostNodes)
    {
        var (min, max) = (0L, 0L);
        foreach (var o in redirects)
        {
            if (o.Outcome == ScenarioOutcome.Ok)
            {
                min += lostNodes.Contains(o.Node) ? 0 : 1;
                max++;
            }
            else if (o.Outcome == ScenarioOutcome.InDoubt)
            {
                max++;
            }
        }

        return (min, max);
    }

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
