using Shortener.Simulation.Election;

namespace Shortener.Simulation.Tests;

public sealed class ElectionSimulationTests
{
    [Fact]
    public void Under_the_same_partitions_the_bully_algorithm_splits_its_brain_and_raft_never_does()
    {
        for (var seed = 1UL; seed <= 3; seed++)
        {
            var bully = ElectionSimulation.Run(ElectionAlgorithm.Bully, seed, nodes: 5);
            var raft = ElectionSimulation.Run(ElectionAlgorithm.Raft, seed, nodes: 5);
            Assert.Equal(bully.Partitions, raft.Partitions);
            Assert.True(bully.Partitions > 0);

            // Each side of a split elects its own coordinator and acknowledges writes alone; the
            // heal keeps one side's log and the other side's acknowledged writes are gone.
            Assert.True(bully.SplitBrain, $"seed {seed}: {bully}");
            Assert.True(bully.TwoLeadersMs > 1_000, $"seed {seed}: {bully.TwoLeadersMs} ms");
            Assert.True(bully.AcknowledgedWritesLost > 0);

            // Raft: one leader per term, a linearizable history, and no Raft property broken. A
            // leader cut off from its quorum may believe it leads for a moment (until
            // check-quorum), but it cannot commit.
            Assert.False(raft.SplitBrain, $"seed {seed}: {string.Join("; ", raft.Violations)}");
            Assert.Equal(0, raft.TermsWithTwoLeaders);
            Assert.True(raft.Linearizable);
            Assert.Empty(raft.Violations);
            Assert.True(raft.WritesAcknowledged > 0);
            Assert.True(raft.TwoLeadersMs < bully.TwoLeadersMs);
        }
    }

    [Fact]
    public void A_seed_replays_exactly()
    {
        Assert.Equal(PartitionSchedule.Generate(9, 5, 20_000).Select(s => s.ToString()), PartitionSchedule.Generate(9, 5, 20_000).Select(s => s.ToString()));
        var first = ElectionSimulation.Run(ElectionAlgorithm.Bully, 9, nodes: 3);
        var again = ElectionSimulation.Run(ElectionAlgorithm.Bully, 9, nodes: 3);
        Assert.Equal(
            (first.Leaderships, first.TwoLeadersMs, first.WritesAcknowledged, first.AcknowledgedWritesLost),
            (again.Leaderships, again.TwoLeadersMs, again.WritesAcknowledged, again.AcknowledgedWritesLost));
    }
}
