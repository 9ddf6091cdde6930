using Shortener.Core.Clicks;
using Shortener.Core.Membership;
using Shortener.Core.Quorum;

namespace Shortener.Simulation.Clicks;

/// <summary>
/// A click-store run: nodes in data centres, clients following links, a stretch of faults
/// (loss, duplication, jitter, partitions, crashes and restarts), then a quiet stretch in which the
/// store must converge. Then, unless <see cref="SealFaultMs"/> is 0, the wall clock jumps past the
/// seal horizon and a second, shorter stretch of faults runs while every node seals the run's
/// days and the replicas exchange their versions; the store must converge and count alike again.
/// With <see cref="SealDuringFaults"/> the horizon falls inside the first stretch instead, so
/// replicas seal what they happen to hold. Node i is in dc((i - 1) mod Dcs + 1).
/// </summary>
public sealed record ClickSimulationSettings
{
    public ulong Seed { get; init; } = 1;

    public int Nodes { get; init; } = 5;

    public int Dcs { get; init; } = 3;

    public DeliveryMode Mode { get; init; } = DeliveryMode.ExactlyOnce;

    public ConsistencyLevel WriteLevel { get; init; } = ConsistencyLevel.Quorum;

    public int Links { get; init; } = 12;

    /// <summary>Redirects per simulated second over the whole cluster, during the fault stretch.</summary>
    public int RedirectsPerSecond { get; init; } = 60;

    public long FaultMs { get; init; } = 20_000;

    /// <summary>The longest the store may take to converge once faults stop.</summary>
    public long QuietMs { get; init; } = 120_000;

    public double DropRate { get; init; } = 0.05;

    public double DuplicateRate { get; init; } = 0.05;

    public long MinDelayMs { get; init; } = 1;

    /// <summary>One-way delay is uniform in [MinDelayMs, MaxDelayMs]; the spread reorders messages.</summary>
    public long MaxDelayMs { get; init; } = 40;

    /// <summary>Chance per simulated second that a running node crashes (it restarts 1 to 6 s later).</summary>
    public double CrashPerSecond { get; init; } = 0.15;

    /// <summary>Chance per simulated second that a partition starts (one data centre cut off, or a random split, for 2 to 12 s).</summary>
    public double PartitionPerSecond { get; init; } = 0.1;

    public long ClickTickMs { get; init; } = 10;

    /// <summary>The second fault stretch, in which the days of the first are sealed (0: no sealing phase).</summary>
    public long SealFaultMs { get; init; } = 5_000;

    /// <summary>
    /// Seal while the first fault stretch runs: it starts half of it before midnight, and the
    /// first day is past the horizon three quarters in. Its clicks may then count fewer than the
    /// redirects (a replica seals what it holds; a click that reaches it later is late), never more.
    /// </summary>
    public bool SealDuringFaults { get; init; }

    public ClickSimulationBug Bug { get; init; } = ClickSimulationBug.None;

    public ClickSettings Clicks { get; init; } = new() { AntiEntropyIntervalMs = 50, HintReplayIntervalMs = 200, RequestTimeoutMs = 500, SealIntervalMs = 500 };

    public ClickRelaySettings Relay { get; init; } = new() { BatchSize = 50, RetryMinMs = 50, RetryMaxMs = 1_000 };

    public GossipSettings Gossip { get; init; } = new();
}
