namespace Shortener.Simulation.Codes;

/// <summary>What a run saw. <see cref="Passed"/> is false if any code was handed out twice or fell outside the code space.</summary>
public sealed record CodeAllocationReport(
    CodeAllocationSettings Settings,
    int DistinctCodes,
    long Duplicates,
    long OutOfSpace,
    long Leases,
    long LeasedNumbers,
    long Crashes,
    long Steps)
{
    public bool Passed => Duplicates == 0 && OutOfSpace == 0;

    /// <summary>Numbers leased but never turned into codes (lost in crashes or still held at the end).</summary>
    public long Unused => LeasedNumbers - DistinctCodes - Duplicates;
}
