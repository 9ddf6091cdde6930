namespace Shortener.Simulation.Election;

/// <summary>Which leader election `shortener sim election` runs.</summary>
public enum ElectionAlgorithm
{
    /// <summary>The bully algorithm: the highest live node it can reach leads, no quorum.</summary>
    Bully,

    /// <summary>Raft: the production replica driver; a leader needs a majority's votes, and a majority to commit.</summary>
    Raft,
}

/// <summary>
/// What one algorithm did under one seed's partitions: leaderships taken, terms (Raft) or epochs
/// (bully) in which two nodes led, simulated time in which two nodes each believed they led, and
/// what that cost the writes clients were told had succeeded: for the bully algorithm, the
/// acknowledged writes missing from the final coordinator's log; for Raft, whether the history of
/// reads and writes is linearizable (the simulator's checker; a lost acknowledged write would
/// break it). Each measures what its own simulation can; the other is null. <see cref="Notes"/>
/// say what happened; <see cref="Violations"/> list the properties a run broke (Raft's checkers;
/// the bully algorithm promises none).
/// </summary>
public sealed record ElectionReport(
    ElectionAlgorithm Algorithm,
    ulong Seed,
    int Nodes,
    int Partitions,
    int Leaderships,
    int TermsWithTwoLeaders,
    long TwoLeadersMs,
    int WritesAcknowledged,
    int? AcknowledgedWritesLost,
    bool? Linearizable,
    IReadOnlyList<string> Notes,
    IReadOnlyList<string> Violations)
{
    /// <summary>Split brain: two leaders in one term or epoch, or what it does: an acknowledged write lost, a history not linearizable.</summary>
    public bool SplitBrain => TermsWithTwoLeaders > 0 || AcknowledgedWritesLost > 0 || Linearizable == false;
}
