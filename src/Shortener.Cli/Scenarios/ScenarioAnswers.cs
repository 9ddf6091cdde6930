using Shortener.Cli.Scenarios.Disruptions;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// The questions each scenario raises, answered in a sentence each from its findings (never from
/// anything else, so the answers and the JSON cannot disagree). eleven-seconds answers the five
/// questions of shared/DESIGN.md; the others answer what their story is about.
/// </summary>
public static class ScenarioAnswers
{
    public static IReadOnlyList<string> For(ScenarioFindings f, ScenarioEvidence e) => f.Scenario switch
    {
        LeaderPause.Name => Pause(f),
        NodeLoss.Name => Loss(f),
        FlakyLink.Name => Flaky(f),
        _ => Cut(f),
    };

    private static IReadOnlyList<string> Cut(ScenarioFindings f)
    {
        var cut = $"{f.AffectedDc} ({Nodes(f.AffectedNodes)})";
        return
        [
            $"Who was primary: exactly one Raft leader per shard and term — at most {f.MaxLeadersInOneTerm} node ever reported (or journaled) leading the same shard in the same term; the journals record {f.LeadershipsTaken} leadership(s) taken during the run. {f.ShardsLedFromCutOffSide} shard(s) were led from {cut} when the cut began.",
            $"Did the cut-off side accept writes: {(f.WritesAcknowledgedOnCutOffSideDuringDisruption == 0 ? "no" : $"{f.WritesAcknowledgedOnCutOffSideDuringDisruption} sent to it during the cut were acknowledged (after the heal)")}. {cut} refused {f.WritesRefusedOnCutOffSide} write(s) (median {f.RefusalLatencyMsMedian} ms until refusal; statuses {Describe(f.RefusalStatuses)}; its journal lists {f.WritesRefusedInCutOffJournals}) and left {f.WritesInDoubtOnCutOffSide} in doubt, while the majority side acknowledged {f.WritesAcknowledgedOnMajoritySideDuringDisruption}. It still served {f.RedirectsServedOnCutOffSide} redirect(s), whose clicks went to its outbox. The cut reached {f.NodesThatGotTheCut} node(s) and healed on {f.NodesThatHealed}.",
            $"Did promoted leaders stay: {f.LeadersMoved} of {f.ShardsLedFromCutOffSide} leader(s) moved off {f.AffectedDc}, and {f.MovedLeadersThatStayed} of those were still leading after the heal; the cut-off side raised {f.TermsRaisedByCutOffSide} shard term(s) (pre-vote keeps it at 0).",
            Clicks(f, "Clicks of the same link on both sides: merged by union. "),
            Doubts(f),
        ];
    }

    private static IReadOnlyList<string> Pause(ScenarioFindings f) =>
    [
        $"Who led while {Nodes(f.AffectedNodes)} was frozen: {f.LeadersMoved} of the {f.ShardsLedFromCutOffSide} shard(s) it led got a new leader ({f.LeadershipsTakenDuringDisruption} leadership(s) taken during the pause), and {f.MovedLeadersThatStayed} of those kept it after it woke; at most {f.MaxLeadersInOneTerm} node ever led one shard in one term.",
        $"Did its stale leadership accept a write: {(f.AcknowledgedWritesLost == 0 && f.Linearizable ? "no — no acknowledged write is missing and the history is linearizable, so nothing it did as a stale leader took effect unseen" : "a check FAILED (below)")}. Of the writes waiting at it while it was frozen, {f.WritesAcknowledgedOnCutOffSideDuringDisruption} were acknowledged after it woke (committed by the shard's current leader), {f.WritesRefusedOnCutOffSide} refused and {f.WritesInDoubtOnCutOffSide} left in doubt. {StepDown(f)}",
        $"The rest of the cluster acknowledged {f.WritesAcknowledgedOnMajoritySideDuringDisruption} write(s) during the pause; their p99 latency was {f.WriteLatencyMsP99During} ms, against {f.WriteLatencyMsP99Before} ms in the {ScenarioFindings.SteadyWindowMs / 1000} s before it.",
        Clicks(f, string.Empty),
        Doubts(f),
    ];

    private static IReadOnlyList<string> Loss(ScenarioFindings f) =>
    [
        $"Did writes go on without {Nodes(f.LostNodes)} ({f.AffectedDc}): the other nodes acknowledged {f.WritesAcknowledgedOnMajoritySideDuringDisruption} write(s) while it was gone (p99 {f.WriteLatencyMsP99During} ms, against {f.WriteLatencyMsP99Before} ms before); its own clients were refused {f.WritesRefusedOnCutOffSide} time(s) and left {f.WritesInDoubtOnCutOffSide} write(s) in doubt. {f.LeadersMoved} of the {f.ShardsLedFromCutOffSide} shard(s) it led got a new leader.",
        f.ReplacementNode is { } replacement
            ? f.ReplacementCaughtUpSeconds is { } seconds
                ? $"Did a replacement catch up: node {replacement} joined {f.AffectedDc} and held its shards {seconds:0.0} s after it started, filled by the shards' leaders."
                : $"Did a replacement catch up: NO — node {replacement} joined {f.AffectedDc} but did not hold its shards in time."
            : "Did a replacement catch up: none was started (the run was stopped).",
        $"Was anything acknowledged lost with the disk: {(f.AcknowledgedWritesLost == 0 ? "no" : $"YES, {f.AcknowledgedWritesLost}")} — every write was acknowledged only once a majority had it on disk; the history is {(f.Linearizable ? "linearizable" : "NOT linearizable")}.",
        Clicks(f, f.ClicksLostWithLostNodes > 0
            ? $"Clicks: {f.ClicksLostWithLostNodes} redirect(s) answered by the lost node had not been handed on when its disk was destroyed, and are gone (a click is durable on one disk until shipped). "
            : "Clicks: none served by the lost node was lost with its disk. "),
        Doubts(f),
    ];

    private static IReadOnlyList<string> Flaky(ScenarioFindings f) =>
    [
        $"Did the lossy link ({Nodes(f.AffectedNodes)}) break anything: the cluster acknowledged {f.WritesAcknowledgedOnMajoritySideDuringDisruption + f.WritesAcknowledgedOnCutOffSideDuringDisruption} write(s) while it dropped messages, {f.WritesAcknowledgedOnCutOffSideDuringDisruption} of them through its ends, which refused {f.WritesRefusedOnCutOffSide} and left {f.WritesInDoubtOnCutOffSide} in doubt. Write p99 through its ends: {f.CutOffSideWriteLatencyMsP99During} ms; elsewhere {f.WriteLatencyMsP99During} ms, against {f.WriteLatencyMsP99Before} ms before.",
        $"Did leaders change: the journals record {f.LeadershipsTakenDuringDisruption} leadership(s) taken while the link was lossy and {f.TermsRaisedByCutOffSide} shard term(s) raised; at most {f.MaxLeadersInOneTerm} node ever led one shard in one term.",
        Clicks(f, "Clicks sent across the lossy link were retried, handed off or repaired. "),
        Doubts(f),
    ];

    private static string StepDown(ScenarioFindings f) => f.StaleLeaderStepDownMs is { } ms
        ? $"Its own journal shows it gave up leadership {ms / 1000.0:0.0} s after the pause began ({Math.Max(0, ms - (long)(f.DisruptionSeconds * 1000)) / 1000.0:0.0} s after it woke)."
        : "Its journal shows no step-down in the run.";

    private static string Clicks(ScenarioFindings f, string lead)
    {
        var verdict = (f.ClicksExact, f.ClicksLostWithLostNodes) switch
        {
            (false, _) => "do NOT equal them",
            (true, 0) => "equal them exactly",
            (true, var lost) => $"agree, and equal them less the {lost} lost with the disk",
        };
        return $"{lead}{f.RedirectsAnswered} redirect(s) were answered ({f.RedirectsInDoubt} without an answer); every node's totals {verdict}: {Describe(f.ClickTotalsByNode)}. Handoff and repair by node, from the journals: {Describe(f.ClickRepairByNode)}.";
    }

    private static string Doubts(ScenarioFindings f) =>
        $"Writes in doubt: {f.InDoubtRequests} request(s) ended without a known outcome; retried with the same idempotency key, {f.InDoubtFoundDone} had happened (the first result came back), {f.InDoubtFoundNotDone} had not (the retry did it), {f.InDoubtStillUnknown} stayed unknown. {(f.AcknowledgedWritesLost == 0 ? "No acknowledged write was lost" : $"{f.AcknowledgedWritesLost} acknowledged write(s) were LOST")}, and the history is {(f.Linearizable ? "linearizable" : "NOT linearizable")}.";

    private static string Nodes(IReadOnlyList<ulong> nodes) => (nodes.Count == 1 ? "node " : "nodes ") + string.Join(", ", nodes);

    private static string Describe<T>(IReadOnlyDictionary<string, T> values) =>
        values.Count == 0 ? "none" : string.Join(", ", values.Select(v => $"{v.Key}: {v.Value}"));
}
