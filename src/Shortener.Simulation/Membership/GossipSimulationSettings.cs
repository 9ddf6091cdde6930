using Shortener.Core.Membership;

namespace Shortener.Simulation.Membership;

/// <summary>A gossip run: how many members, the network's behaviour, and the protocol's settings.</summary>
public sealed record GossipSimulationSettings
{
    public ulong Seed { get; init; } = 1;

    public int Members { get; init; } = 10;

    /// <summary>Data centres; member i is in dc((i - 1) mod Dcs + 1).</summary>
    public int Dcs { get; init; } = 3;

    public double DropRate { get; init; }

    public double DuplicateRate { get; init; }

    /// <summary>One-way delay is uniform in [MinDelayMs, MaxDelayMs]: the spread is the jitter, and it reorders messages.</summary>
    public long MinDelayMs { get; init; } = 1;

    public long MaxDelayMs { get; init; } = 5;

    public GossipSettings Gossip { get; init; } = new();
}
