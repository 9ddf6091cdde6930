using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Simulation.Raft;

namespace Shortener.Simulation.Tests;

/// <summary>
/// A checker that never fails proves nothing: each known bug, planted in the engine or the replica
/// driver through a test-only switch, must be caught in at least 5% of a fixed set of seeds, with
/// the faults aimed at where it hides. The measured rates are in docs/simulation.md
/// (`shortener sim raft --bug NAME --seeds N` with the same options); each run stops at its first
/// violation.
/// </summary>
public class PlantedBugTests
{
    private const int Seeds = 100;

    /// <summary>Each bug with the simulation it is measured in: nodes, faults, applied entries between snapshots.</summary>
    public static TheoryData<string, int, SimFaults, int> Bugs => new()
    {
        { nameof(RaftBugs.VoteWithoutLogCheck), 3, SimFaults.All, 40 },
        { nameof(RaftBugs.CommitPreviousTermByCounting), 3, SimFaults.Churn | SimFaults.Network | SimFaults.Aimed, 40 },
        { nameof(RaftBugs.FollowerLocalReads), 3, SimFaults.All, 40 },
        { nameof(RaftBugs.ForgetMembershipOnRestart), 5, SimFaults.Reconfigure, 8 },
        { nameof(RaftBugs.ApplyPastCommit), 3, SimFaults.All, 40 },
        { nameof(RaftBugs.ReadIndexBeforeTermCommit), 3, SimFaults.All, 40 },
        { nameof(RaftBugs.ReadIndexWithoutHeartbeat), 3, SimFaults.Partition | SimFaults.Clock | SimFaults.Aimed, 40 },
        { nameof(ReplicaBugs.SendBeforeFsync), 3, SimFaults.Crash | SimFaults.Partition | SimFaults.Aimed, 40 },
        { nameof(ReplicaBugs.AckBeforeApply), 3, SimFaults.All, 40 },
        { nameof(ReplicaBugs.DropProposalsOnLeaderChange), 3, SimFaults.All, 40 },
        { nameof(ReplicaBugs.InstallSnapshotWithoutConfiguration), 5, SimFaults.Reconfigure, 8 },
    };

    [Theory]
    [MemberData(nameof(Bugs))]
    public void The_simulator_catches_a_planted_bug_in_at_least_one_seed_in_twenty(string bug, int nodes, SimFaults faults, int snapshotEvery)
    {
        var settings = new RaftSimulationSettings
        {
            Nodes = nodes,
            Faults = faults,
            SnapshotEvery = snapshotEvery,
            EngineBugs = Enum.TryParse<RaftBugs>(bug, out var engine) ? engine : RaftBugs.None,
            ReplicaBugs = Enum.TryParse<ReplicaBugs>(bug, out var replica) ? replica : ReplicaBugs.None,
        };
        Assert.True(settings.EngineBugs != RaftBugs.None || settings.ReplicaBugs != ReplicaBugs.None, $"unknown bug {bug}");

        var reports = RaftSimulationRunner.Run(settings, Enumerable.Range(1, Seeds).Select(s => (ulong)s).ToList(), Environment.ProcessorCount);
        var caught = reports.Count(r => !r.Passed);
        Assert.True(caught * 20 >= Seeds, $"{bug} caught in {caught} of {Seeds} seeds, under 5% ({settings.ReplayCommand})");
    }

    /// <summary>A rate is only worth something if the same simulation finds nothing when no bug is planted.</summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void Without_a_planted_bug_the_same_simulations_find_nothing(int nodes, SimFaults faults, int snapshotEvery)
    {
        var settings = new RaftSimulationSettings { Nodes = nodes, Faults = faults, SnapshotEvery = snapshotEvery };
        var reports = RaftSimulationRunner.Run(settings, Enumerable.Range(1, 40).Select(s => (ulong)s).ToList(), Environment.ProcessorCount);
        var failed = reports.Where(r => !r.Passed).Select(r => $"{r.Settings.ReplayCommand}: {string.Join("; ", r.Violations)}").ToList();
        Assert.True(failed.Count == 0, string.Join('\n', failed));
    }

    /// <summary>The simulations of <see cref="Bugs"/> other than the default one (all faults, 3 nodes), each once.</summary>
    public static TheoryData<int, SimFaults, int> Configurations()
    {
        var data = new TheoryData<int, SimFaults, int>();
        foreach (var (nodes, faults, every) in Bugs.Select(row => ((int)row[1], (SimFaults)row[2], (int)row[3])).Distinct().Where(c => c != (3, SimFaults.All, 40)))
        {
            data.Add(nodes, faults, every);
        }

        return data;
    }

    [Fact]
    public void Every_planted_bug_has_a_test()
    {
        var tested = Bugs.Select(row => (string)row[0]).ToHashSet();
        var known = Enum.GetNames<RaftBugs>().Concat(Enum.GetNames<ReplicaBugs>()).Where(n => n != "None");
        Assert.All(known, n => Assert.Contains(n, tested));
    }
}
