namespace Shortener.Simulation.Membership;

/// <summary>What <see cref="GossipScenario"/> measured; times in simulated milliseconds, null when it did not happen within its limit.</summary>
public sealed record GossipScenarioReport(
    GossipSimulationSettings Settings,
    long? JoinMs,
    long? DetectMs,
    long? RejoinMs,
    long FalseDeaths,
    long Suspicions,
    long Messages,
    IReadOnlyList<string> Violations)
{
    public bool Passed => Violations.Count == 0;

    public string ReplayCommand => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"shortener sim gossip --seed {Settings.Seed} --members {Settings.Members} --loss {Settings.DropRate} --duplicate {Settings.DuplicateRate} --max-delay-ms {Settings.MaxDelayMs}");
}
