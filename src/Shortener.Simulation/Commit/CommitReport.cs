namespace Shortener.Simulation.Commit;

/// <summary>
/// One seed of one protocol: how many transactions began and how they ended, the transactions
/// committed at one participant and aborted at another (atomicity violations), and those a
/// participant still holds prepared with no way to decide once the network healed (blocked).
/// </summary>
public sealed record CommitReport(
    CommitProtocol Protocol,
    ulong Seed,
    CommitBug Bug,
    int Transactions,
    int Committed,
    int Aborted,
    IReadOnlyList<string> Violations,
    IReadOnlyList<string> Blocked,
    string Faults);
