using Shortener.Simulation.Codes;

namespace Shortener.Simulation.Tests;

public class CodeAllocationSimulationTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void One_million_codes_from_concurrent_allocators_never_collide(ulong seed)
    {
        var report = new CodeAllocationSimulation(new CodeAllocationSettings(seed, Nodes: 8, Codes: 1_000_000)).Run();
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(1_000_000, report.DistinctCodes);
        Assert.True(report.Crashes > 0, "the run should include crashes");
        Assert.True(report.Leases >= 1_000, "every code came from a leased block");
    }

    [Fact]
    public void Small_blocks_many_nodes_and_frequent_crashes()
    {
        var report = new CodeAllocationSimulation(new CodeAllocationSettings(99, Nodes: 64, Codes: 200_000, BlockSize: 7, CrashProbability: 0.01)).Run();
        Assert.True(report.Passed, report.ToString());
        Assert.True(report.Unused > 0, "crashes lose the rest of their block");
    }

    [Fact]
    public void The_same_seed_replays_the_same_run()
    {
        var settings = new CodeAllocationSettings(1234, Codes: 50_000);
        Assert.Equal(new CodeAllocationSimulation(settings).Run(), new CodeAllocationSimulation(settings).Run());
        Assert.NotEqual(new CodeAllocationSimulation(settings).Run(), new CodeAllocationSimulation(settings with { Seed = 1235 }).Run());
    }

    [Fact]
    public void The_checker_catches_uncoordinated_leases()
    {
        var report = new CodeAllocationSimulation(new CodeAllocationSettings(5, Nodes: 4, Codes: 20_000, PlantedBug: true)).Run();
        Assert.False(report.Passed);
        Assert.True(report.Duplicates > 1_000, report.ToString());
    }
}
