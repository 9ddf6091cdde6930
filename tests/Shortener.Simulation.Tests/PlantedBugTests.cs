using Shortener.Core.Raft;
using Shortener.Simulation.Raft;

namespace Shortener.Simulation.Tests;

/// <summary>
/// A checker that never fails proves nothing: each known bug, planted through a test-only switch,
/// must be caught within a bounded number of seeds. The bounds come from measured detection rates
/// (docs/simulation.md) with room to spare; the runs stop at the first violation.
/// </summary>
public class PlantedBugTests
{
    [Theory]
    [InlineData(RaftBugs.VoteWithoutLogCheck, SimFaults.All, 3, 40)]
    [InlineData(RaftBugs.FollowerLocalReads, SimFaults.All, 3, 40)]
    [InlineData(RaftBugs.CommitPreviousTermByCounting, SimFaults.Churn | SimFaults.Network, 3, 400)]
    [InlineData(RaftBugs.ForgetMembershipOnRestart, SimFaults.All, 3, 300)]
    public void The_simulator_catches_a_planted_engine_bug(RaftBugs bug, SimFaults faults, int nodes, int maxSeeds) =>
        AssertCaught(new RaftSimulationSettings { EngineBugs = bug, Faults = faults, Nodes = nodes }, maxSeeds);

    [Fact]
    public void The_simulator_catches_acknowledging_before_fsync() =>
        AssertCaught(new RaftSimulationSettings { DriverBugs = SimDriverBugs.SendBeforeFsync, Faults = SimFaults.Crash | SimFaults.Partition | SimFaults.Churn }, 800);

    private static void AssertCaught(RaftSimulationSettings template, int maxSeeds)
    {
        for (ulong seed = 1; seed <= (ulong)maxSeeds; seed++)
        {
            var report = new RaftSimulation(template with { Seed = seed }).Run();
            if (!report.Passed)
            {
                Assert.NotEmpty(report.Violations);
                return;
            }
        }

        Assert.Fail($"no violation found in {maxSeeds} seeds with {template.EngineBugs} {template.DriverBugs}");
    }
}
