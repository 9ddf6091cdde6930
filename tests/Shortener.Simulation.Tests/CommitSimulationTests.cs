using Shortener.Simulation.Commit;

namespace Shortener.Simulation.Tests;

/// <summary>
/// `sim commit`: what the theory says, shown on the same faults for each protocol
/// (docs/transactions.md): 2PC blocks when its coordinator dies after prepare; 3PC does not block
/// but a partition splits its decision; 2PC over Raft does neither; each planted bug is caught.
/// </summary>
public sealed class CommitSimulationTests
{
    private const int Budget = 300;

    private static List<CommitReport> RunSeeds(CommitProtocol protocol, CommitBug bug = CommitBug.None) =>
        [.. Enumerable.Range(1, Budget).Select(s => CommitSimulation.Run(protocol, (ulong)s, bug))];

    [Fact]
    public void Textbook_2pc_blocks_when_its_coordinator_dies_for_good_after_prepare_and_stays_atomic()
    {
        var reports = RunSeeds(CommitProtocol.TwoPhase);
        Assert.All(reports, r => Assert.Empty(r.Violations));
        var blocked = reports.Where(r => r.Blocked.Count > 0).ToList();
        Assert.NotEmpty(blocked);

        // Each blocked seed lost its coordinator for good; its participants hold prepared locks.
        Assert.All(blocked, r => Assert.Contains(CommitFaultPlan.Generate(r.Seed).Crashes, c => c.Node == 0 && c.UntilMs is null));
        Assert.All(blocked.SelectMany(r => r.Blocked), b => Assert.Contains("prepared", b));
    }

    [Fact]
    public void Textbook_3pc_never_blocks_but_a_partition_makes_one_side_commit_and_the_other_abort()
    {
        var reports = RunSeeds(CommitProtocol.ThreePhase);
        Assert.All(reports, r => Assert.Empty(r.Blocked));
        var split = reports.Where(r => r.Violations.Count > 0).ToList();
        Assert.NotEmpty(split);
        Assert.All(split, r => Assert.NotNull(CommitFaultPlan.Generate(r.Seed).Split));

        // A seed that shows it replays exactly.
        var again = CommitSimulation.Run(CommitProtocol.ThreePhase, split[0].Seed);
        Assert.Equal(split[0].Violations, again.Violations);
        Assert.Equal(split[0].Committed, again.Committed);
    }

    [Fact]
    public void Two_phase_commit_over_raft_neither_blocks_nor_breaks_atomicity_on_the_same_faults()
    {
        var reports = RunSeeds(CommitProtocol.TwoPhaseOverRaft);
        Assert.All(reports, r => Assert.Empty(r.Violations));
        Assert.All(reports, r => Assert.Empty(r.Blocked));

        // Not vacuous: transactions commit, and the faults abort some.
        Assert.True(reports.Sum(r => r.Committed) > Budget * 5, $"{reports.Sum(r => r.Committed)} committed");
        Assert.True(reports.Sum(r => r.Aborted) > 0);
    }

    [Theory]
    [InlineData(CommitBug.CommitBeforeDurablePrepare)]
    [InlineData(CommitBug.ResolveWithoutRecord)]
    [InlineData(CommitBug.ForgetDecisionOnRestart)]
    public void Each_planted_bug_in_2pc_over_raft_is_caught_within_the_seed_budget(CommitBug bug)
    {
        var caught = RunSeeds(CommitProtocol.TwoPhaseOverRaft, bug).FirstOrDefault(r => r.Violations.Count > 0 || r.Blocked.Count > 0);
        Assert.NotNull(caught);
    }
}
