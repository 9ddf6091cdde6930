using Shortener.Core.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>One simulated run; everything in it follows from these values and the seed.</summary>
public sealed record RaftSimulationSettings
{
    public ulong Seed { get; init; } = 1;

    public int Nodes { get; init; } = 3;

    public int Clients { get; init; } = 4;

    /// <summary>Operations the clients issue in all (reads, writes, compare-and-set).</summary>
    public int Operations { get; init; } = 200;

    public int Keys { get; init; } = 4;

    public SimFaults Faults { get; init; } = SimFaults.All;

    /// <summary>Simulated ms during which faults are injected; then everything heals.</summary>
    public long FaultPhaseMs { get; init; } = 20_000;

    /// <summary>After the faults stop, a leader must exist and every pending operation finish within this many ms.</summary>
    public long LivenessBoundMs { get; init; } = 10_000;

    public long TickMs { get; init; } = 10;

    public long ClientTimeoutMs { get; init; } = 1_500;

    /// <summary>Each node snapshots its state after this many applied entries (0: never).</summary>
    public int SnapshotEvery { get; init; } = 40;

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Events after which a run is stopped as a message storm (a liveness failure).</summary>
    public long MaxEvents { get; init; } = 5_000_000;

    public RaftBugs EngineBugs { get; init; }

    public SimDriverBugs DriverBugs { get; init; }

    /// <summary>The command that replays this run.</summary>
    public string ReplayCommand =>
        $"shortener sim raft --seed {Seed} --nodes {Nodes} --ops {Operations} --faults {FaultsArgument(Faults)}"
        + (EngineBugs != RaftBugs.None ? $" --bug {EngineBugs}" : string.Empty)
        + (DriverBugs != SimDriverBugs.None ? $" --bug {DriverBugs}" : string.Empty)
        + (ReadOnlyOption == ReadOnlyOption.LeaseBased ? " --lease-reads" : string.Empty);

    public static string FaultsArgument(SimFaults faults) =>
        faults == SimFaults.All ? "all" : faults == SimFaults.None ? "none" : string.Join(',', Enum.GetValues<SimFaults>().Where(f => f is not (SimFaults.None or SimFaults.All) && faults.HasFlag(f)).Select(f => f.ToString().ToLowerInvariant()));
}
