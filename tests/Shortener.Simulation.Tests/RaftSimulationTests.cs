using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;
using Shortener.Simulation.Raft;

namespace Shortener.Simulation.Tests;

public class RaftSimulationTests
{
    /// <summary>The fixed seed set CI runs: every fault on, three and five replicas. By hand: shortener sim raft --seeds 10000.</summary>
    [Theory]
    [InlineData(3, 1UL, 200)]
    [InlineData(5, 1UL, 60)]
    public void Every_seed_keeps_raft_safe_linearizable_and_live(int nodes, ulong firstSeed, int seeds)
    {
        var failures = new List<string>();
        var operations = 0;
        for (var seed = firstSeed; seed < firstSeed + (ulong)seeds; seed++)
        {
            var report = new RaftSimulation(new RaftSimulationSettings { Seed = seed, Nodes = nodes }).Run();
            operations += report.Ok;
            if (!report.Passed)
            {
                failures.Add($"{report.Settings.ReplayCommand}: {string.Join("; ", report.Violations)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(operations > seeds * 100, $"only {operations} operations succeeded: the runs did little work");
    }

    [Fact]
    public void A_seed_replays_exactly()
    {
        var settings = new RaftSimulationSettings { Seed = 42 };
        var a = new RaftSimulation(settings).Run();
        var b = new RaftSimulation(settings).Run();
        Assert.Equal(a.History, b.History);
        Assert.Equal(a.FaultLog, b.FaultLog);
        Assert.Equal(a.Events, b.Events);
        var c = new RaftSimulation(settings with { Seed = 43 }).Run();
        Assert.NotEqual(a.FaultLog, c.FaultLog);
    }

    /// <summary>
    /// In this seed the nemesis sends a write to a new leader just before the run ends; the write
    /// applies, reads see it, but no answer comes before the end. It must count as an operation of
    /// unknown outcome: left out of the history (as it once was), its value read by others looked
    /// like a value nobody wrote.
    /// </summary>
    [Fact]
    public void An_operation_still_open_when_the_run_ends_counts_as_unknown()
    {
        var report = new RaftSimulation(new RaftSimulationSettings { Seed = 164, Faults = SimFaults.Partition | SimFaults.Clock | SimFaults.Aimed }).Run();
        Assert.True(report.Passed, string.Join("; ", report.Violations));
        Assert.Contains(report.History, o => o.Kind == RegisterOperationKind.Write && o.Status == OperationStatus.Unknown && o.Return == long.MaxValue && report.History.Any(r => r.Kind == RegisterOperationKind.Read && r.Output == o.Value));
    }

    [Fact]
    public void Seeds_run_side_by_side_give_the_same_reports_as_one_by_one()
    {
        var seeds = Enumerable.Range(20, 6).Select(s => (ulong)s).ToList();
        var parallel = RaftSimulationRunner.Run(new RaftSimulationSettings(), seeds, 4);
        for (var i = 0; i < seeds.Count; i++)
        {
            var alone = new RaftSimulation(new RaftSimulationSettings { Seed = seeds[i] }).Run();
            Assert.Equal(alone.History, parallel[i].History);
            Assert.Equal(alone.Events, parallel[i].Events);
        }
    }

    [Fact]
    public void Runs_go_through_the_production_wal_and_survive_power_losses()
    {
        var report = new RaftSimulation(new RaftSimulationSettings { Seed = 11, Faults = SimFaults.Crash | SimFaults.Disk | SimFaults.Network }).Run();
        Assert.True(report.Passed, string.Join('\n', report.Violations));
        Assert.True(report.Crashes > 0, "the run should have crashed nodes");
        Assert.True(report.Fsyncs > 100, $"only {report.Fsyncs} fsyncs on the simulated disks");
        Assert.Contains(report.FaultLog, l => l.Contains("torn", StringComparison.Ordinal));
        Assert.True(report.Ok > 100);
    }

    [Fact]
    public void Runs_see_faults_and_still_do_work()
    {
        var report = new RaftSimulation(new RaftSimulationSettings { Seed = 7 }).Run();
        Assert.True(report.Passed, string.Join('\n', report.Violations));
        Assert.True(report.Elections >= 2, "the nemesis should force leader changes");
        Assert.True(report.MessagesDropped > 0);
        Assert.Contains(report.History, o => o.Status == OperationStatus.Unknown || o.Status == OperationStatus.Fail);
        Assert.True(report.Ok > 100);
        Assert.True(report.Linearizability.Linearizable && !report.Linearizability.Inconclusive);
    }

    [Fact]
    public void Without_faults_every_operation_succeeds()
    {
        var report = new RaftSimulation(new RaftSimulationSettings { Seed = 3, Faults = SimFaults.None }).Run();
        Assert.True(report.Passed, string.Join('\n', report.Violations));

        // Before the first election a request may find no leader; after it, everything succeeds.
        Assert.All(report.History.Where(o => o.Invoke > 1_000), o => Assert.Equal(OperationStatus.Ok, o.Status));
        Assert.Equal(1, report.Elections);
    }

    [Fact]
    public void Lease_reads_stay_linearizable_when_clocks_agree()
    {
        var faults = SimFaults.All & ~SimFaults.Clock & ~SimFaults.Pause;
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var report = new RaftSimulation(new RaftSimulationSettings { Seed = seed, ReadOnlyOption = ReadOnlyOption.LeaseBased, Faults = faults }).Run();
            Assert.True(report.Passed, $"{report.Settings.ReplayCommand}: {string.Join("; ", report.Violations)}");
        }
    }
}
