namespace Shortener.Simulation.Commit;

/// <summary>
/// One seed of one atomic commit protocol under that seed's faults (<see cref="CommitFaultPlan"/>,
/// the same for every protocol), checked for atomicity and blocking (docs/transactions.md).
/// </summary>
public static class CommitSimulation
{
    public static CommitReport Run(CommitProtocol protocol, ulong seed, CommitBug bug = CommitBug.None)
    {
        if (bug != CommitBug.None && protocol != CommitProtocol.TwoPhaseOverRaft)
        {
            throw new ArgumentException("bugs are planted in the 2PC-over-Raft model only", nameof(bug));
        }

        var plan = CommitFaultPlan.Generate(seed);
        CommitRun run = protocol switch
        {
            CommitProtocol.TwoPhase => new TwoPhaseRun(seed, plan),
            CommitProtocol.ThreePhase => new ThreePhaseRun(seed, plan),
            _ => new TwoPhaseOverRaftRun(seed, plan, bug),
        };
        return run.Run();
    }
}
