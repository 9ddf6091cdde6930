using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>What one simulated run saw, and every property it broke.</summary>
public sealed record RaftSimulationReport(
    RaftSimulationSettings Settings,
    IReadOnlyList<string> Violations,
    IReadOnlyList<RegisterOperation> History,
    LinearizabilityResult Linearizability,
    long SimulatedMs,
    long Events,
    long MessagesSent,
    long MessagesDropped,
    int Elections,
    int Crashes,
    long Fsyncs,
    IReadOnlyList<string> FaultLog,
    IReadOnlyList<string> FinalNodes)
{
    /// <summary>Simulated ms in which two or more nodes each believed they led (measured when <see cref="RaftSimulationSettings.Partitions"/> is set).</summary>
    public long TwoLeadersMs { get; init; }

    public bool Passed => Violations.Count == 0;

    public int Ok => History.Count(o => o.Status == OperationStatus.Ok);

    public int Failed => History.Count(o => o.Status == OperationStatus.Fail);

    public int Unknown => History.Count(o => o.Status == OperationStatus.Unknown);
}
