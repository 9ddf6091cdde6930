namespace Shortener.Simulation.Codes;

/// <summary>
/// One run of <see cref="CodeAllocationSimulation"/>: everything it does follows from these values.
/// <paramref name="PlantedBug"/> is for tests of the checker only: each node leases from its own
/// copy of the sequence, as if leases skipped coordination, which must produce duplicates.
/// </summary>
public sealed record CodeAllocationSettings(
    ulong Seed,
    int Nodes = 8,
    int Codes = 1_000_000,
    ulong BlockSize = 1000,
    int CodeLength = 7,
    double CrashProbability = 0.0005,
    int MaxLeaseDelaySteps = 50,
    bool PlantedBug = false);
