using System.Globalization;
using Shortener.Node.Observability;
using Shortener.Simulation.Checkers;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// What a scenario found, computed from its evidence alone (no node is asked anything here), and
/// the five questions of shared/DESIGN.md answered from it. The field names are the JSON contract
/// of `shortener scenario --json` (camelCase).
/// </summary>
public sealed record ScenarioFindings
{
    /// <summary>The stretch just before the disruption taken as the steady state (the workload's first seconds warm the nodes up).</summary>
    public const long SteadyWindowMs = 2000;

    public required string Scenario { get; init; }

    /// <summary>What the disruption did, in a sentence.</summary>
    public required string Disruption { get; init; }

    /// <summary>The data centre it hit (for a link, its two ends joined by '-').</summary>
    public required string AffectedDc { get; init; }

    /// <summary>The nodes it hit: "the cut-off side" of the fields below.</summary>
    public required IReadOnlyList<ulong> AffectedNodes { get; init; }

    public required double DisruptionSeconds { get; init; }

    public required bool Linearizable { get; init; }

    public required string LinearizabilityDetail { get; init; }

    public required int AcknowledgedWritesLost { get; init; }

    public required IReadOnlyList<string> LostWrites { get; init; }

    public required bool ClicksExact { get; init; }

    public required long RedirectsAnswered { get; init; }

    public required long RedirectsInDoubt { get; init; }

    /// <summary>Per node, the sum of its click totals over the links redirected (-1 if it could not read one).</summary>
    public required IReadOnlyDictionary<string, long> ClickTotalsByNode { get; init; }

    public required int MaxLeadersInOneTerm { get; init; }

    public required int WritesRefusedOnCutOffSide { get; init; }

    public required int WritesInDoubtOnCutOffSide { get; init; }

    /// <summary>Median milliseconds from a write's request to its refusal on the cut-off side.</summary>
    public required long RefusalLatencyMsMedian { get; init; }

    public required IReadOnlyDictionary<string, int> RefusalStatuses { get; init; }

    public required long RedirectsServedOnCutOffSide { get; init; }

    public required int ReadsRefusedOnCutOffSide { get; init; }

    public required int WritesAcknowledgedOnMajoritySideDuringDisruption { get; init; }

    /// <summary>Writes sent to the affected nodes during the disruption and acknowledged (a cut-off node can acknowledge none; a paused one, those committed after it woke).</summary>
    public required int WritesAcknowledgedOnCutOffSideDuringDisruption { get; init; }

    /// <summary>99th percentile latency of the writes the other nodes acknowledged in the <see cref="SteadyWindowMs"/> before the disruption (sent and answered before it began), and of those sent during it (ms).</summary>
    public required long WriteLatencyMsP99Before { get; init; }

    public required long WriteLatencyMsP99During { get; init; }

    /// <summary>99th percentile latency of the writes the affected nodes acknowledged that were sent during the disruption (ms; 0 when none was).</summary>
    public required long CutOffSideWriteLatencyMsP99During { get; init; }

    /// <summary>The longest time, over the shards the affected nodes led when it began, from its start until the affected leader's own journal shows it no longer leading (null when none did or its journal is gone).</summary>
    public required long? StaleLeaderStepDownMs { get; init; }

    /// <summary>Times a node's journal says it became leader of a shard while the disruption lasted.</summary>
    public required int LeadershipsTakenDuringDisruption { get; init; }

    /// <summary>Nodes whose data the disruption destroyed.</summary>
    public required IReadOnlyList<ulong> LostNodes { get; init; }

    /// <summary>Redirects answered whose clicks no node has at the end: served by a lost node and not handed on before its data was destroyed.</summary>
    public required long ClicksLostWithLostNodes { get; init; }

    /// <summary>The node that joined in a lost node's place, and seconds from its start until it held its shards (null: it did not, in time).</summary>
    public required ulong? ReplacementNode { get; init; }

    public required double? ReplacementCaughtUpSeconds { get; init; }

    public required int ShardsLedFromCutOffSide { get; init; }

    public required int LeadersMoved { get; init; }

    public required int MovedLeadersThatStayed { get; init; }

    public required int TermsRaisedByCutOffSide { get; init; }

    public required int InDoubtRequests { get; init; }

    public required int InDoubtFoundDone { get; init; }

    public required int InDoubtFoundNotDone { get; init; }

    public required int InDoubtStillUnknown { get; init; }

    public required IReadOnlyDictionary<string, int> Operations { get; init; }

    /// <summary>Per shard, the leader (node id, 0 for none known) in each second of the run, by the highest term any node reported leading in it.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<ulong>> LeaderBySecond { get; init; }

    /// <summary>Journal entries the nodes wrote during the run, by kind.</summary>
    public required IReadOnlyDictionary<string, int> JournalEntries { get; init; }

    /// <summary>Times a node's journal says it became leader of a shard during the run.</summary>
    public required int LeadershipsTaken { get; init; }

    /// <summary>Nodes whose journal shows the cut arriving, and nodes whose journal shows it healed (by request or on its own).</summary>
    public required int NodesThatGotTheCut { get; init; }

    public required int NodesThatHealed { get; init; }

    /// <summary>Writes the cut-off nodes' own journals say they refused for want of a quorum (the client may have seen some as in doubt).</summary>
    public required int WritesRefusedInCutOffJournals { get; init; }

    /// <summary>Per node, its latest journal entry on click handoff and repair (totals since it started: hints stored and handed over, read repairs, merges).</summary>
    public required IReadOnlyDictionary<string, string> ClickRepairByNode { get; init; }

    /// <summary>The scenario's questions (for eleven-seconds, the five of shared/DESIGN.md), answered in a sentence each from the numbers above.</summary>
    public required IReadOnlyList<string> Answers { get; init; }

    /// <summary>True when every invariant held: linearizable, nothing acknowledged lost, clicks exact, one leader per term.</summary>
    public bool Passed => Linearizable && AcknowledgedWritesLost == 0 && ClicksExact && MaxLeadersInOneTerm <= 1;

    public static ScenarioFindings From(ScenarioEvidence evidence)
    {
        var ops = evidence.Operations;
        // Requests to the affected nodes that were sent, or still waiting for an answer, while the disruption lasted.
        var cutOff = ops.Where(o => evidence.AffectedNodes.Contains(o.Node) && o.InvokeMs < evidence.DisruptionEndMs && o.ReturnMs >= evidence.DisruptionStartMs && o.Worker >= 0 && o.Worker < ScenarioEvidence.FinalReadWorker).ToList();
        var cutOffWrites = cutOff.Where(o => o.IsWrite).ToList();
        var refused = cutOffWrites.Where(o => o.Outcome == ScenarioOutcome.Refused).ToList();
        var doubts = ops.Where(o => o.IsWrite && o.Outcome == ScenarioOutcome.InDoubt).ToList();
        var verdict = LinearizabilityChecker.Check(Registers(ops));
        var lost = FindLostWrites(ops);
        var (clicksExact, answered, inDoubtRedirects, totals, clicksLost) = Clicks(evidence);
        var leaders = Leaders(evidence);
        var journal = evidence.Journal;

        var majorityWrites = ops.Where(o => o.IsWrite && o.Outcome == ScenarioOutcome.Ok && o.Worker >= 0 && !evidence.AffectedNodes.Contains(o.Node)).ToList();
        var findings = new ScenarioFindings
        {
            Scenario = evidence.Scenario,
            Disruption = evidence.Disruption.Description,
            AffectedDc = evidence.AffectedDc,
            AffectedNodes = [.. evidence.AffectedNodes.Order()],
            DisruptionSeconds = Math.Round((evidence.DisruptionEndMs - evidence.DisruptionStartMs) / 1000.0, 1),
            Linearizable = verdict.Linearizable && !verdict.Inconclusive,
            LinearizabilityDetail = verdict.Describe(),
            AcknowledgedWritesLost = lost.Count,
            LostWrites = lost,
            ClicksExact = clicksExact,
            RedirectsAnswered = answered,
            RedirectsInDoubt = inDoubtRedirects,
            ClickTotalsByNode = totals,
            MaxLeadersInOneTerm = leaders.MaxPerTerm,
            WritesRefusedOnCutOffSide = refused.Count,
            WritesInDoubtOnCutOffSide = cutOffWrites.Count(o => o.Outcome == ScenarioOutcome.InDoubt),
            RefusalLatencyMsMedian = Median(refused.Select(o => o.LatencyMs)),
            RefusalStatuses = refused.GroupBy(o => o.Status.ToString(CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count()),
            RedirectsServedOnCutOffSide = cutOff.Count(o => o.Kind == ScenarioOperationKind.Redirect && o.Outcome == ScenarioOutcome.Ok),
            ReadsRefusedOnCutOffSide = cutOff.Count(o => o.Kind == ScenarioOperationKind.Read && o.Outcome != ScenarioOutcome.Ok),
            WritesAcknowledgedOnMajoritySideDuringDisruption = majorityWrites.Count(o => evidence.DuringDisruption(o.InvokeMs)),
            WritesAcknowledgedOnCutOffSideDuringDisruption = cutOffWrites.Count(o => o.Outcome == ScenarioOutcome.Ok),
            WriteLatencyMsP99Before = Percentile(majorityWrites.Where(o => o.ReturnMs < evidence.DisruptionStartMs && o.InvokeMs >= evidence.DisruptionStartMs - SteadyWindowMs).Select(o => o.LatencyMs), 0.99),
            WriteLatencyMsP99During = Percentile(majorityWrites.Where(o => evidence.DuringDisruption(o.InvokeMs)).Select(o => o.LatencyMs), 0.99),
            CutOffSideWriteLatencyMsP99During = Percentile(cutOffWrites.Where(o => o.Outcome == ScenarioOutcome.Ok && evidence.DuringDisruption(o.InvokeMs)).Select(o => o.LatencyMs), 0.99),
            StaleLeaderStepDownMs = StepDown(evidence),
            LeadershipsTakenDuringDisruption = journal.Count(e => IsLeadership(e) && evidence.DuringDisruption(e.AtMs)),
            LostNodes = evidence.Disruption.LostNodes,
            ClicksLostWithLostNodes = evidence.Disruption.LostNodes.Count == 0 ? 0 : clicksLost,
            ReplacementNode = evidence.Ended.ReplacementNode,
            ReplacementCaughtUpSeconds = evidence.Ended.ReplacementCaughtUpMs is { } ms ? Math.Round(ms / 1000.0, 1) : null,
            ShardsLedFromCutOffSide = leaders.LedFromCutOffSide,
            LeadersMoved = leaders.Moved,
            MovedLeadersThatStayed = leaders.Stayed,
            TermsRaisedByCutOffSide = leaders.TermsRaised,
            InDoubtRequests = doubts.Count,
            InDoubtFoundDone = doubts.Count(o => o.Resolution == DoubtResolution.FoundDone),
            InDoubtFoundNotDone = doubts.Count(o => o.Resolution == DoubtResolution.FoundNotDone),
            InDoubtStillUnknown = doubts.Count(o => o.Resolution is DoubtResolution.StillUnknown or DoubtResolution.None),
            Operations = ops.GroupBy(o => $"{o.Kind.ToString().ToLowerInvariant()}:{o.Outcome.ToString().ToLowerInvariant()}").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            LeaderBySecond = leaders.BySecond,
            JournalEntries = journal.GroupBy(e => JsonName(e.Kind)).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            LeadershipsTaken = journal.Count(IsLeadership),
            NodesThatGotTheCut = journal.Where(e => e.Kind == JournalKind.FaultApplied && e.Detail.StartsWith("partition", StringComparison.Ordinal)).Select(e => e.Node).Distinct().Count(),
            NodesThatHealed = journal.Where(e => e.Kind is JournalKind.FaultHealed or JournalKind.FaultEnded && e.AtMs >= evidence.DisruptionStartMs).Select(e => e.Node).Distinct().Count(),
            WritesRefusedInCutOffJournals = journal.Count(e => e.Kind == JournalKind.WriteRefused && evidence.AffectedNodes.Contains(e.Node) && e.AtMs >= evidence.DisruptionStartMs && e.AtMs < evidence.DisruptionEndMs + ScenarioClient.RequestTimeout.TotalMilliseconds),
            ClickRepairByNode = journal.Where(e => e.Kind == JournalKind.ClickRepair).GroupBy(e => e.Node.ToString(CultureInfo.InvariantCulture)).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.MaxBy(e => e.Seq)!.Detail),
            Answers = [],
        };
        return findings with { Answers = ScenarioAnswers.For(findings, evidence) };
    }

    /// <summary>
    /// Every link as a register: creates and updates are writes (an in-doubt one resolved by its
    /// retry took effect by the time the retry returned; one still unknown may have taken effect
    /// at any time after it was sent, or never), linearizable and final reads are reads. Refused
    /// writes took no effect and are left out.
    /// </summary>
    internal static IEnumerable<RegisterOperation> Registers(IEnumerable<ScenarioOperation> ops)
    {
        foreach (var o in ops)
        {
            switch (o.Kind)
            {
                case ScenarioOperationKind.Create or ScenarioOperationKind.Update when o.Outcome == ScenarioOutcome.Ok:
                    yield return new RegisterOperation(o.Worker, o.Code, RegisterOperationKind.Write, o.Value, null, null, o.InvokeMs, o.ReturnMs, OperationStatus.Ok);
                    break;
                case ScenarioOperationKind.Create or ScenarioOperationKind.Update when o.Outcome == ScenarioOutcome.InDoubt:
                    var resolved = o.Resolution is DoubtResolution.FoundDone or DoubtResolution.FoundNotDone;
                    yield return new RegisterOperation(o.Worker, o.Code, RegisterOperationKind.Write, o.Value, null, null, o.InvokeMs, resolved ? o.ResolvedMs : long.MaxValue, resolved ? OperationStatus.Ok : OperationStatus.Unknown);
                    break;
                case ScenarioOperationKind.Read when o.Outcome == ScenarioOutcome.Ok:
                    yield return new RegisterOperation(o.Worker, o.Code, RegisterOperationKind.Read, null, null, o.Output, o.InvokeMs, o.ReturnMs, OperationStatus.Ok);
                    break;
            }
        }
    }

    /// <summary>
    /// Acknowledged writes the final reads do not reflect: a link whose acknowledged create no node
    /// has at the end, or whose final value was written by a write that returned before an
    /// acknowledged write of it was even sent (so the acknowledged one was overwritten by the past).
    /// </summary>
    internal static IReadOnlyList<string> FindLostWrites(IReadOnlyList<ScenarioOperation> ops)
    {
        var lost = new List<string>();
        var finals = ops.Where(o => o.Worker >= ScenarioEvidence.FinalReadWorker && o.Kind == ScenarioOperationKind.Read && o.Outcome == ScenarioOutcome.Ok).ToLookup(o => o.Code);
        var writes = ops.Where(o => o.IsWrite && (o.Outcome == ScenarioOutcome.Ok || o.Resolution is DoubtResolution.FoundDone or DoubtResolution.FoundNotDone)).ToLookup(o => o.Code);
        foreach (var key in writes)
        {
            foreach (var final in finals[key.Key])
            {
                if (final.Output is null)
                {
                    lost.Add($"{key.Key}: acknowledged, but node {final.Node} has no such link at the end");
                    continue;
                }

                var source = ops.Where(o => o.IsWrite && o.Code == key.Key && o.Value == final.Output).MinBy(o => o.InvokeMs);
                var sourceReturn = source is null ? long.MinValue : source.Outcome == ScenarioOutcome.Ok ? source.ReturnMs : source.ResolvedMs == 0 ? long.MaxValue : source.ResolvedMs;
                if (key.FirstOrDefault(w => w.InvokeMs > sourceReturn) is { } overwritten)
                {
                    lost.Add($"{key.Key}: node {final.Node} ends with {final.Output}, written before the acknowledged {overwritten.Value} was sent");
                }
            }
        }

        return lost;
    }

    private static (bool Exact, long Answered, long InDoubt, IReadOnlyDictionary<string, long> Totals, long Lost) Clicks(ScenarioEvidence evidence)
    {
        var lost = 0L;
        var redirects = evidence.Operations.Where(o => o.Kind == ScenarioOperationKind.Redirect).ToLookup(o => o.Code);
        var exact = true;
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, byNode) in evidence.ClickTotals)
        {
            // A redirect the client saw no answer to may have been served (and counted) or not.
            var (min, max) = ScenarioEvidence.ClickRange(redirects[code], evidence.Disruption.LostNodes);
            foreach (var (node, total) in byNode)
            {
                var name = node.ToString(CultureInfo.InvariantCulture);
                totals[name] = total < 0 || totals.GetValueOrDefault(name) < 0 ? -1 : totals.GetValueOrDefault(name) + total;
                exact &= total >= min && total <= max;
            }

            var answeredOfCode = redirects[code].Count(o => o.Outcome == ScenarioOutcome.Ok);
            lost += byNode.Values.Where(t => t >= 0).Select(t => Math.Max(0, answeredOfCode - t)).DefaultIfEmpty(0).Max();

            exact &= byNode.Values.Distinct().Count() == 1;
        }

        var all = evidence.Operations.Where(o => o.Kind == ScenarioOperationKind.Redirect && evidence.ClickTotals.ContainsKey(o.Code)).ToList();
        return (exact && evidence.ClickTotals.Count > 0, all.Count(o => o.Outcome == ScenarioOutcome.Ok), all.Count(o => o.Outcome == ScenarioOutcome.InDoubt), totals, lost);
    }

    private sealed record LeaderFacts(int MaxPerTerm, int LedFromCutOffSide, int Moved, int Stayed, int TermsRaised, IReadOnlyDictionary<string, IReadOnlyList<ulong>> BySecond);

    private static LeaderFacts Leaders(ScenarioEvidence evidence)
    {
        var samples = evidence.Samples;
        // Leaders per term from both witnesses: what the sampler saw, and every node's journal of becoming leader.
        var sampled = samples.Where(s => s.IsLeader).Select(s => (s.Shard, s.Term, s.Node));
        var journaled = evidence.Journal.Where(IsLeadership).Select(e => (Shard: e.Shard!.Value, Term: e.Term!.Value, e.Node));
        var maxPerTerm = sampled.Concat(journaled).GroupBy(l => (l.Shard, l.Term)).Select(g => g.Select(l => l.Node).Distinct().Count()).DefaultIfEmpty(0).Max();

        // The leader of a shard in a window: the node that reported itself leader in the highest term.
        static ulong LeaderIn(IEnumerable<LeaderSample> window) => LeaderSample.LeadersByShard(window).SingleOrDefault()?.Node ?? 0;

        int led = 0, moved = 0, stayed = 0, raised = 0;
        var bySecond = new SortedDictionary<string, IReadOnlyList<ulong>>(StringComparer.Ordinal);
        foreach (var shard in samples.GroupBy(s => s.Shard).OrderBy(g => g.Key))
        {
            var before = LeaderIn(shard.Where(s => s.AtMs < evidence.DisruptionStartMs && s.AtMs >= evidence.DisruptionStartMs - 2000));
            var lateInCut = LeaderIn(shard.Where(s => s.AtMs < evidence.DisruptionEndMs && s.AtMs >= evidence.DisruptionEndMs - 2000));
            var atEnd = LeaderIn(shard.Where(s => s.AtMs >= evidence.EndMs - 2000));
            if (evidence.AffectedNodes.Contains(before))
            {
                led++;
                if (lateInCut != 0 && !evidence.AffectedNodes.Contains(lateInCut))
                {
                    moved++;
                    stayed += atEnd == lateInCut ? 1 : 0;
                }
            }

            // Pre-vote: a cut-off replica cannot win an election, so it never asks for a higher term,
            // and on its return it does not force one. (Its last second is left out: a view asked
            // for just before the heal may be answered just after it.)
            var termBefore = shard.Where(s => s.AtMs < evidence.DisruptionStartMs).Select(s => s.Term).DefaultIfEmpty(0UL).Max();
            var cutOffTerm = shard.Where(s => evidence.AffectedNodes.Contains(s.Node) && s.AtMs >= evidence.DisruptionStartMs && s.AtMs < evidence.DisruptionEndMs - 1000).Select(s => s.Term).DefaultIfEmpty(0UL).Max();
            var majorityTermAtHeal = shard.Where(s => !evidence.AffectedNodes.Contains(s.Node) && s.AtMs < evidence.DisruptionEndMs).Select(s => s.Term).DefaultIfEmpty(0UL).Max();
            var termAfter = shard.Where(s => s.AtMs >= evidence.DisruptionEndMs).Select(s => s.Term).DefaultIfEmpty(0UL).Max();
            raised += cutOffTerm > termBefore || termAfter > majorityTermAtHeal ? 1 : 0;

            var seconds = (int)(evidence.EndMs / 1000) + 1;
            var timeline = new ulong[seconds];
            foreach (var second in shard.GroupBy(s => (int)(s.AtMs / 1000)).Where(g => g.Key < seconds))
            {
                timeline[second.Key] = LeaderIn(second);
            }

            bySecond[shard.Key.ToString(CultureInfo.InvariantCulture)] = timeline;
        }

        return new LeaderFacts(maxPerTerm, led, moved, stayed, raised, bySecond);
    }

    /// <summary>A journal entry that says its node became the leader of a shard.</summary>
    internal static bool IsLeadership(JournalEntry e) =>
        e is { Kind: JournalKind.RoleChanged, Shard: not null, Term: not null } && e.Detail.StartsWith("leader;", StringComparison.Ordinal);

    private static string JsonName(JournalKind kind) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    private static long Median(IEnumerable<long> values) => Percentile(values, 0.5);

    private static long Percentile(IEnumerable<long> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
    }

    /// <summary>
    /// Per shard an affected node led in the 2 s before the disruption, the time from the start
    /// until that node's journal records a role other than leader for it; the longest of them.
    /// </summary>
    private static long? StepDown(ScenarioEvidence evidence)
    {
        long? longest = null;
        var before = evidence.Samples.Where(s => s.IsLeader && evidence.AffectedNodes.Contains(s.Node) && s.AtMs < evidence.DisruptionStartMs && s.AtMs >= evidence.DisruptionStartMs - 2000)
            .Select(s => (s.Node, s.Shard)).Distinct();
        foreach (var (node, shard) in before)
        {
            var down = evidence.Journal.FirstOrDefault(e => e.Node == node && e.Shard == shard && e.Kind == JournalKind.RoleChanged && !IsLeadership(e) && e.AtMs >= evidence.DisruptionStartMs);
            if (down is not null)
            {
                longest = Math.Max(longest ?? 0, down.AtMs - evidence.DisruptionStartMs);
            }
        }

        return longest;
    }
}
