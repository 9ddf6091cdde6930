namespace Shortener.Simulation.Raft;

/// <summary>
/// Runs many seeds of one setting, on every core: each seed is its own deterministic world, so
/// running them side by side changes no result. Reports come back in seed order.
/// </summary>
public static class RaftSimulationRunner
{
    public static IReadOnlyList<RaftSimulationReport> Run(RaftSimulationSettings template, IReadOnlyList<ulong> seeds, int parallelism, Action<RaftSimulationReport>? done = null)
    {
        var reports = new RaftSimulationReport[seeds.Count];
        var gate = new Lock();
        Parallel.For(
            0,
            seeds.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) },
            i =>
            {
                reports[i] = new RaftSimulation(template with { Seed = seeds[i] }).Run();
                if (done is not null)
                {
                    lock (gate)
                    {
                        done(reports[i]);
                    }
                }
            });
        return reports;
    }
}
