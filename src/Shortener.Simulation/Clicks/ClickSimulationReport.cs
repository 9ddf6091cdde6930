using Shortener.Core.Clicks;

namespace Shortener.Simulation.Clicks;

/// <summary>
/// What a click-store run did and whether the store kept its promises: <see cref="Counted"/> is
/// what the store holds once converged, <see cref="Redirected"/> the redirects clients saw
/// succeed. Exactly-once must count each exactly; at-least-once may count more
/// (<see cref="OverCount"/>), at-most-once fewer (<see cref="Lost"/>), never the other way.
/// <see cref="ClicksSealed"/> is how many clicks replicas folded into sealed days,
/// <see cref="LateClicks"/> how many reached a replica after it had sealed their day, and
/// <see cref="SealedShortfall"/> how many of the <see cref="SealedDayRedirects"/> redirects of the day
/// sealed during faults the store does not count (both 0 unless <see cref="ClickSimulationSettings.SealDuringFaults"/>).
/// </summary>
public sealed record ClickSimulationReport(
    ulong Seed,
    DeliveryMode Mode,
    long Redirected,
    long RedirectsRefused,
    long Counted,
    long OverCount,
    long Lost,
    long? ConvergedAfterMs,
    int Crashes,
    int Partitions,
    long Messages,
    long Dropped,
    long Duplicated,
    long HintsReplayed,
    long ReadsDuringFaults,
    long ReadRepairs,
    long AntiEntropyClicks,
    long FailedWrites,
    long ClicksSealed,
    long LateClicks,
    long SealedDayRedirects,
    long SealedShortfall,
    IReadOnlyList<string> Violations,
    string ReplayCommand)
{
    public bool Passed => Violations.Count == 0;
}
