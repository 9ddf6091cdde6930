namespace Shortener.Cli.Scenarios;

/// <summary>How a scenario's workload runs (the disruption says what it does and for how long): how long before and after the disruption, how much of it, and its seed.</summary>
public sealed record ScenarioSettings
{
    /// <summary>Workload before the disruption, so every node has history to lose.</summary>
    public TimeSpan Before { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Workload after the disruption ends, so the returning side has to catch up under load.</summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(5);

    public int Links { get; init; } = 200;

    public int WorkersPerNode { get; init; } = 3;

    public int Seed { get; init; } = 1;

    /// <summary>How long the cluster gets to settle after the workload stops: every in-doubt write resolved, every node reading the same links and clicks.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(45);
}
