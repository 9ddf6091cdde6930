using Shortener.Simulation.Checkers;
using Shortener.Simulation.Raft;

namespace Shortener.Simulation.Election;

/// <summary>
/// One seed's partitions (<see cref="PartitionSchedule"/>) played against one leader election:
/// the bully algorithm (<see cref="BullySimulation"/>) or Raft (the production replica driver in
/// <see cref="RaftSimulation"/>, with no fault but those partitions), both under a steady stream
/// of client writes, reported the same way.
/// </summary>
public static class ElectionSimulation
{
    public const long DurationMs = 20_000;

    public static ElectionReport Run(ElectionAlgorithm algorithm, ulong seed, int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 3);
        var splits = PartitionSchedule.Generate(seed, nodes, DurationMs);
        return algorithm == ElectionAlgorithm.Bully
            ? new BullySimulation(seed, nodes, DurationMs, splits).Run()
            : RunRaft(seed, nodes, splits);
    }

    private static ElectionReport RunRaft(ulong seed, int nodes, IReadOnlyList<TimedSplit> splits)
    {
        var report = new RaftSimulation(new RaftSimulationSettings
        {
            Seed = seed,
            Nodes = nodes,
            Faults = SimFaults.None,
            Partitions = splits,
            FaultPhaseMs = DurationMs,
            Operations = 400,
        }).Run();

        // Election safety is checked as the run goes (a second leader of a term is a violation);
        // a write acknowledged and then lost would make the history not linearizable.
        var twoLeaderTerms = report.Violations.Count(v => v.StartsWith("election safety", StringComparison.Ordinal));
        return new ElectionReport(
            ElectionAlgorithm.Raft,
            seed,
            nodes,
            splits.Count,
            report.Elections,
            twoLeaderTerms,
            report.TwoLeadersMs,
            report.History.Count(o => o.Kind == RegisterOperationKind.Write && o.Status == OperationStatus.Ok && o.Invoke >= 0),
            null,
            report.Linearizability.Linearizable && !report.Linearizability.Inconclusive,
            [],
            report.Violations);
    }
}
