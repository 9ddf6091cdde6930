using Shortener.Cli.Scenarios;
using Shortener.Cli.Scenarios.Disruptions;
using Shortener.Node.Observability;

namespace Shortener.Cli.Tests;

/// <summary>
/// The scenario's findings are computed from evidence alone, so each check is shown here to pass
/// on a history where it holds and to fail on one where it does not.
/// </summary>
public class ScenarioFindingsTests
{
    private const long CutStart = 10_000;
    private const long CutEnd = 20_000;
    private const long End = 40_000;
    private static readonly Dictionary<ulong, string> Dcs = new() { [1] = "dc1", [2] = "dc2", [3] = "dc3" };

    [Fact]
    public void A_clean_history_passes_and_answers_from_its_numbers()
    {
        var findings = ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(5, 5, 5)));

        Assert.True(findings.Passed);
        Assert.True(findings.Linearizable, findings.LinearizabilityDetail);
        Assert.Equal(0, findings.AcknowledgedWritesLost);
        Assert.True(findings.ClicksExact);
        Assert.Equal(1, findings.MaxLeadersInOneTerm);
        Assert.Equal(1, findings.WritesRefusedOnCutOffSide);
        Assert.Equal(4_900, findings.RefusalLatencyMsMedian);
        Assert.Equal(1, findings.RefusalStatuses["503"]);
        Assert.Equal(2, findings.RedirectsServedOnCutOffSide);
        Assert.Equal(1, findings.ShardsLedFromCutOffSide);
        Assert.Equal(1, findings.LeadersMoved);
        Assert.Equal(1, findings.MovedLeadersThatStayed);
        Assert.Equal(0, findings.TermsRaisedByCutOffSide);
        Assert.Equal((1, 1, 0, 0), (findings.InDoubtRequests, findings.InDoubtFoundDone, findings.InDoubtFoundNotDone, findings.InDoubtStillUnknown));
        Assert.Equal(3UL, findings.LeaderBySecond["0"][5]);
        Assert.Equal(1UL, findings.LeaderBySecond["0"][15]);
        Assert.Equal(5, findings.Answers.Count);
        Assert.Contains("dc3 (node 3) refused 1 write(s)", findings.Answers[1]);
        Assert.Contains("1 had happened", findings.Answers[4]);
        Assert.Equal(2, findings.LeadershipsTaken);
        Assert.Equal((3, 3), (findings.NodesThatGotTheCut, findings.NodesThatHealed));
        Assert.Equal(1, findings.WritesRefusedInCutOffJournals);
        Assert.Equal(2, findings.JournalEntries["roleChanged"]);
        Assert.Contains("handed over +2", findings.ClickRepairByNode["2"]);
        Assert.Contains("journal lists 1", findings.Answers[1]);
    }

    [Fact]
    public void A_lost_nodes_redirects_count_only_in_the_upper_bound_and_the_clicks_lost_with_its_disk_are_counted()
    {
        // "h" was redirected five times: twice by node 3, twice by node 1, once by node 2.
        var lost = new DisruptionStarted("node 3 killed and its data deleted", "dc3", [3], [3]);

        // Node 3's disk is gone with one of its two clicks not yet handed on: the survivors agree on 4.
        var findings = ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(4, 4, 4)) with { Disruption = lost });
        Assert.True(findings.ClicksExact);
        Assert.Equal(1, findings.ClicksLostWithLostNodes);
        Assert.Equal([3UL], findings.LostNodes);

        // Fewer than the survivors themselves answered is a loss no disk explains.
        Assert.False(ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(2, 2, 2)) with { Disruption = lost }).ClicksExact);

        // With no node lost, 4 of 5 answered redirects is simply wrong.
        var intact = ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(4, 4, 4)));
        Assert.False(intact.ClicksExact);
        Assert.Equal(0, intact.ClicksLostWithLostNodes);
    }

    [Fact]
    public void The_stale_leaders_step_down_is_timed_from_its_own_journal()
    {
        // Node 3 led shard 0 when the cut began; its journal says it followed 1.5 s later.
        var journal = CleanJournal().Append(new JournalEntry(30, CutStart + 1_500, default, 3, JournalKind.RoleChanged, 0, 1, "follower; leader 0")).ToList();
        Assert.Equal(1_500, ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(5, 5, 5), journal)).StaleLeaderStepDownMs);

        // Without such an entry there is no time to tell, not a guess.
        Assert.Null(ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(5, 5, 5))).StaleLeaderStepDownMs);
    }

    [Fact]
    public void A_request_waiting_at_the_cut_off_side_when_the_cut_began_counts_as_its_and_straddling_writes_stay_out_of_the_latencies()
    {
        var ops = CleanHistory();
        ops.Add(Op(8, 3, ScenarioOperationKind.Update, "a", "u8", 9_800, 14_000, ScenarioOutcome.Refused, 503));
        ops.Add(Op(4, 1, ScenarioOperationKind.Update, "a", "u4", 8_500, 8_600));
        ops.Add(Op(4, 2, ScenarioOperationKind.Update, "a", "u5", 9_900, 12_500));
        ops.Add(Op(4, 2, ScenarioOperationKind.Update, "a", "u6", 12_600, 12_650));
        var findings = ScenarioFindings.From(Evidence(ops, CleanSamples(), Clicks(5, 5, 5)));

        Assert.Equal(2, findings.WritesRefusedOnCutOffSide);
        Assert.Equal(100, findings.WriteLatencyMsP99Before);
        Assert.Equal(50, findings.WriteLatencyMsP99During);
        Assert.Equal(1, findings.WritesAcknowledgedOnMajoritySideDuringDisruption);
    }

    [Theory]
    [InlineData("eleven-seconds", "Who was primary")]
    [InlineData("leader-pause", "Did its stale leadership accept a write: no")]
    [InlineData("dc-loss", "Did a replacement catch up: none was started")]
    [InlineData("flaky-link", "Did the lossy link (node 3) break anything")]
    public void Each_scenario_answers_its_own_questions(string scenario, string expected)
    {
        var findings = ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(5, 5, 5)) with { Scenario = scenario });
        Assert.Contains(findings.Answers, a => a.StartsWith(expected, StringComparison.Ordinal));
        Assert.Contains(findings.Answers, a => a.StartsWith("Writes in doubt", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_leaders_of_one_term_in_the_journals_fail_the_run_even_when_the_sampler_missed_them()
    {
        var journal = CleanJournal().Append(new JournalEntry(20, CutStart + 1_450, default, 2, JournalKind.RoleChanged, 0, 2, "leader; leader 2")).ToList();
        var findings = ScenarioFindings.From(Evidence(CleanHistory(), CleanSamples(), Clicks(5, 5, 5), journal));

        Assert.Equal(2, findings.MaxLeadersInOneTerm);
        Assert.False(findings.Passed);
    }

    [Fact]
    public void A_node_ending_on_an_overwritten_value_lost_an_acknowledged_write_and_is_not_linearizable()
    {
        var ops = CleanHistory().Where(o => !(o.Worker == 1002 && o.Code == "a")).Append(FinalRead(2, "a", "u0")).ToList();
        var findings = ScenarioFindings.From(Evidence(ops, CleanSamples(), Clicks(5, 5, 5)));

        Assert.False(findings.Passed);
        Assert.False(findings.Linearizable);
        Assert.Equal(1, findings.AcknowledgedWritesLost);
        Assert.Contains("node 2 ends with u0", findings.LostWrites.Single());
    }

    [Fact]
    public void An_acknowledged_create_missing_at_the_end_is_lost()
    {
        var ops = CleanHistory().Append(Op(0, 1, ScenarioOperationKind.Create, "b", "ub", 500, 600)).Append(FinalRead(1, "b", null)).Append(FinalRead(2, "b", "ub")).ToList();
        var findings = ScenarioFindings.From(Evidence(ops, CleanSamples(), Clicks(5, 5, 5)));

        Assert.Equal(1, findings.AcknowledgedWritesLost);
        Assert.Contains("node 1 has no such link", findings.LostWrites.Single());
        Assert.False(findings.Passed);
    }

    [Theory]
    [InlineData(5, 4, 5, 0, false)]
    [InlineData(6, 6, 6, 0, false)]
    [InlineData(6, 6, 6, 1, true)]
    [InlineData(4, 4, 4, 0, false)]
    public void Click_totals_are_exact_only_when_every_node_agrees_on_the_redirects_answered(long node1, long node2, long node3, int inDoubt, bool exact)
    {
        var ops = CleanHistory().Concat(Enumerable.Range(0, inDoubt).Select(i => Op(9, 2, ScenarioOperationKind.Redirect, "h", null, 30_000 + i, 38_000, ScenarioOutcome.InDoubt, 0))).ToList();
        var findings = ScenarioFindings.From(Evidence(ops, CleanSamples(), Clicks(node1, node2, node3)));

        Assert.Equal(exact, findings.ClicksExact);
        Assert.Equal(exact, findings.Passed);
    }

    [Fact]
    public void Two_nodes_leading_one_shard_in_one_term_fail_the_run()
    {
        var samples = CleanSamples().Append(new LeaderSample(25_000, 2, 0, "leader", 2, 2)).ToList();
        var findings = ScenarioFindings.From(Evidence(CleanHistory(), samples, Clicks(5, 5, 5)));

        Assert.Equal(2, findings.MaxLeadersInOneTerm);
        Assert.False(findings.Passed);
    }

    [Fact]
    public void A_term_raised_on_the_cut_off_side_or_by_its_return_is_counted()
    {
        var campaigning = CleanSamples().Append(new LeaderSample(12_000, 3, 0, "candidate", 3, 0)).ToList();
        Assert.Equal(1, ScenarioFindings.From(Evidence(CleanHistory(), campaigning, Clicks(5, 5, 5))).TermsRaisedByCutOffSide);

        var disruptive = CleanSamples().Append(new LeaderSample(30_000, 1, 0, "leader", 3, 1)).ToList();
        Assert.Equal(1, ScenarioFindings.From(Evidence(CleanHistory(), disruptive, Clicks(5, 5, 5))).TermsRaisedByCutOffSide);

        // A view asked for in the cut's last second may be answered after the heal: not counted.
        var healing = CleanSamples().Append(new LeaderSample(CutEnd - 500, 3, 0, "follower", 2, 1)).ToList();
        Assert.Equal(0, ScenarioFindings.From(Evidence(CleanHistory(), healing, Clicks(5, 5, 5))).TermsRaisedByCutOffSide);
    }

    [Fact]
    public void A_write_whose_fate_stays_unknown_may_or_may_not_have_happened()
    {
        var unknown = Op(4, 3, ScenarioOperationKind.Update, "a", "u9", 12_000, 17_000, ScenarioOutcome.InDoubt, 0) with { Resolution = DoubtResolution.StillUnknown };
        var ops = CleanHistory().Append(unknown).ToList();
        var findings = ScenarioFindings.From(Evidence(ops, CleanSamples(), Clicks(5, 5, 5)));

        Assert.True(findings.Linearizable, findings.LinearizabilityDetail);
        Assert.Equal(1, findings.InDoubtStillUnknown);
        Assert.Equal(0, findings.AcknowledgedWritesLost);
    }

    [Fact]
    public void The_busiest_data_centre_leads_the_most_shards_by_the_newest_term()
    {
        var samples = new[]
        {
            new LeaderSample(100, 1, 0, "leader", 1, 1),
            new LeaderSample(100, 2, 1, "leader", 1, 2),
            new LeaderSample(100, 2, 2, "leader", 1, 2),
            new LeaderSample(100, 1, 2, "leader", 2, 1),
            new LeaderSample(100, 3, 3, "leader", 1, 3),
        };
        Assert.Equal("dc1", ScenarioRunner.BusiestDc(samples, Dcs));
        Assert.Equal("dc2", ScenarioRunner.BusiestDc(samples.Where(s => s.Shard != 2), Dcs.Where(d => d.Key != 1).ToDictionary()));
        Assert.Equal("dc3", ScenarioRunner.BusiestDc([], Dcs));
    }

    [Fact]
    public void A_cluster_in_fewer_than_three_data_centres_is_refused_with_the_reason()
    {
        var nodes = new Dictionary<ulong, Uri> { [1] = new("http://127.0.0.1:1"), [2] = new("http://127.0.0.1:2") };
        var two = new ScenarioTarget(nodes, new Dictionary<ulong, string> { [1] = "dc1", [2] = "dc2" }, null);
        Assert.Contains("at least 3 data centres", two.Unsuitable());
        Assert.Contains("has 2 (dc1, dc2)", two.Unsuitable());

        var three = new ScenarioTarget(nodes, Dcs, null);
        Assert.Null(three.Unsuitable());
        Assert.Null(new DataCentreCut("dc2", TimeSpan.FromSeconds(1)).Unsuitable(three, local: true));
        Assert.Contains("--isolate dc9: the cluster has no such data centre", new DataCentreCut("dc9", TimeSpan.FromSeconds(1)).Unsuitable(three, local: true));
        Assert.Contains("no such data centre", new FlakyLink("dc9", TimeSpan.FromSeconds(1)).Unsuitable(three, local: false));

        // Losing a node means killing a process and deleting its files: only on the scenario's own cluster.
        Assert.Null(new NodeLoss(null, TimeSpan.FromSeconds(1)).Unsuitable(three, local: true));
        Assert.Contains("runs only on the fresh local cluster", new NodeLoss(null, TimeSpan.FromSeconds(1)).Unsuitable(three, local: false));
    }

    [Theory]
    [InlineData(201, "", ScenarioOutcome.Ok)]
    [InlineData(0, "", ScenarioOutcome.InDoubt)]
    [InlineData(503, "The write may still be applied: retry with the same Idempotency-Key", ScenarioOutcome.InDoubt)]
    [InlineData(503, "Nothing was written; retry later.", ScenarioOutcome.Refused)]
    [InlineData(429, "", ScenarioOutcome.Refused)]
    public void A_writes_answer_is_acknowledged_refused_or_in_doubt(int status, string body, ScenarioOutcome outcome) =>
        Assert.Equal(outcome, ScenarioClient.ClassifyWrite(status, body));

    /// <summary>
    /// Link "a" created, updated and read; node 3 (dc3) cut off from 10 s to 20 s, where a write is
    /// refused and two redirects of "h" are served; an in-doubt update whose retry found it done;
    /// shard 0 led by node 3 in term 1, then by node 1 in term 2 from the cut on.
    /// </summary>
    internal static List<ScenarioOperation> CleanHistory() =>
    [
        Op(ScenarioEvidence.SetupWorker, 1, ScenarioOperationKind.Create, "a", "u0", 0, 10),
        Op(0, 1, ScenarioOperationKind.Update, "a", "u1", 100, 200),
        Op(1, 2, ScenarioOperationKind.Read, "a", null, 300, 400) with { Output = "u1" },
        Op(2, 3, ScenarioOperationKind.Update, "a", "u2", 11_000, 15_900, ScenarioOutcome.Refused, 503),
        Op(3, 1, ScenarioOperationKind.Update, "a", "u3", 9_000, 14_000, ScenarioOutcome.InDoubt, 0) with { Resolution = DoubtResolution.FoundDone, ResolvedMs = 27_000 },
        Op(5, 3, ScenarioOperationKind.Redirect, "h", null, 12_000, 12_001),
        Op(5, 3, ScenarioOperationKind.Redirect, "h", null, 13_000, 13_001),
        Op(6, 1, ScenarioOperationKind.Redirect, "h", null, 13_000, 13_001),
        Op(6, 1, ScenarioOperationKind.Redirect, "h", null, 25_000, 25_001),
        Op(7, 2, ScenarioOperationKind.Redirect, "h", null, 26_000, 26_001),
        FinalRead(1, "a", "u3"),
        FinalRead(2, "a", "u3"),
        FinalRead(3, "a", "u3"),
    ];

    internal static List<LeaderSample> CleanSamples()
    {
        var samples = new List<LeaderSample>();
        for (var at = 0L; at < End; at += 500)
        {
            var (leader, term) = at < CutStart + 1_500 ? (3UL, 1UL) : (1UL, 2UL);
            foreach (var node in Dcs.Keys)
            {
                // Cut off, node 3 keeps its old view: leader of term 1 until check-quorum, then follower.
                var cutOff = node == 3 && at >= CutStart && at < CutEnd;
                var (nodeLeader, nodeTerm) = cutOff ? (at < CutStart + 1_500 ? 3UL : 0UL, 1UL) : (leader, term);
                samples.Add(new LeaderSample(at, node, 0, node == nodeLeader ? "leader" : "follower", nodeTerm, nodeLeader));
            }
        }

        return samples;
    }

    internal static Dictionary<string, IReadOnlyDictionary<ulong, long>> Clicks(long node1, long node2, long node3) =>
        new() { ["h"] = new Dictionary<ulong, long> { [1] = node1, [2] = node2, [3] = node3 } };

    internal static ScenarioEvidence Evidence(IReadOnlyList<ScenarioOperation> ops, IReadOnlyList<LeaderSample> samples, IReadOnlyDictionary<string, IReadOnlyDictionary<ulong, long>> clicks, IReadOnlyList<JournalEntry>? journal = null) =>
        new("test", ops, samples, Dcs, new DisruptionStarted("dc3 cut off", "dc3", [3], []), CutStart, CutEnd, End, clicks, journal ?? CleanJournal(), [new ClickSample(1_000, 1, 0), new ClickSample(12_000, 3, 2), new ClickSample(12_000, 1, 1), new ClickSample(30_000, 1, 5), new ClickSample(30_000, 3, 5)]);

    /// <summary>The journals of the clean run: node 1 takes shard 0 in term 2; the cut reaches all three nodes and heals on all; node 3 refuses a write.</summary>
    private static List<JournalEntry> CleanJournal() =>
    [
        new(1, 100, default, 3, JournalKind.RoleChanged, 0, 1, "leader; leader 3"),
        new(2, CutStart + 1_400, default, 1, JournalKind.RoleChanged, 0, 2, "leader; leader 1"),
        .. Dcs.Keys.Select(n => new JournalEntry(10, CutStart - 5, default, n, JournalKind.FaultApplied, null, null, "partition drop to [3], drop from [3] (41.0 s left)")),
        .. Dcs.Keys.Select(n => new JournalEntry(11, CutEnd + 5, default, n, JournalKind.FaultHealed, null, null, "every fault")),
        new(12, 15_900, default, 3, JournalKind.WriteRefused, 0, null, "PATCH /api/v1/links/a: no quorum"),
        new(13, 21_000, default, 2, JournalKind.ClickRepair, null, null, "hints stored +0, handed over +2 (0 held); read repairs +0; sealed days merged +0"),
    ];

    private static ScenarioOperation Op(int worker, ulong node, ScenarioOperationKind kind, string code, string? value, long invoke, long returned, ScenarioOutcome outcome = ScenarioOutcome.Ok, int status = 200) =>
        new(worker, node, kind, code, value, invoke, returned, outcome, status, IdempotencyKey: value is null ? null : "k-" + value);

    private static ScenarioOperation FinalRead(ulong node, string code, string? url) =>
        new(ScenarioEvidence.FinalReadWorker + (int)node, node, ScenarioOperationKind.Read, code, null, 35_000, 35_010, ScenarioOutcome.Ok, url is null ? 404 : 200, url);
}
