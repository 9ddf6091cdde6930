using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Simulation.Raft;

/// <summary>One simulated run; everything in it follows from these values and the seed.</summary>
public sealed record RaftSimulationSettings
{
    public ulong Seed { get; init; } = 1;

    public int Nodes { get; init; } = 3;

    public int Clients { get; init; } = 4;

    /// <summary>Operations the clients issue in all (reads and writes of links).</summary>
    public int Operations { get; init; } = 200;

    /// <summary>Links the clients read and write (created in the cluster's first state).</summary>
    public int Keys { get; init; } = 4;

    public SimFaults Faults { get; init; } = SimFaults.All;

    /// <summary>Simulated ms during which faults are injected; then everything heals.</summary>
    public long FaultPhaseMs { get; init; } = 20_000;

    /// <summary>After the faults stop, a leader must exist and every pending operation finish within this many ms.</summary>
    public long LivenessBoundMs { get; init; } = 10_000;

    public long TickMs { get; init; } = 10;

    public long ClientTimeoutMs { get; init; } = 1_500;

    /// <summary>A replica answers every request within this many of its ticks (before the client gives up).</summary>
    public int RequestTimeoutTicks { get; init; } = 100;

    /// <summary>Each node snapshots its state after this many applied entries (0: never).</summary>
    public int SnapshotEvery { get; init; } = 40;

    /// <summary>WAL segment size on the simulated disk: small, so segments roll over and are released.</summary>
    public long SegmentBytes { get; init; } = 8 * 1024;

    /// <summary>
    /// Chance that a round's applied state is durable by the time of a power loss. The SQLite state
    /// machine commits without fsync (the Raft log replays what it lost), so a crash may take a
    /// replica's state back to an earlier applied index.
    /// </summary>
    public double StateDurableChance { get; init; } = 0.25;

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Events after which a run is stopped as a message storm (a liveness failure).</summary>
    public long MaxEvents { get; init; } = 5_000_000;

    /// <summary>
    /// Partitions to play at fixed times instead of the nemesis' random ones (`shortener sim
    /// election` runs Raft and the bully algorithm under the same ones); null: none.
    /// </summary>
    public IReadOnlyList<Election.TimedSplit>? Partitions { get; init; }

    public RaftBugs EngineBugs { get; init; }

    public ReplicaBugs ReplicaBugs { get; init; }

    /// <summary>The command that replays this run.</summary>
    public string ReplayCommand =>
        $"shortener sim raft --seed {Seed} --nodes {Nodes} --ops {Operations} --faults {FaultsArgument(Faults)}"
        + (EngineBugs != RaftBugs.None ? $" --bug {EngineBugs}" : string.Empty)
        + (ReplicaBugs != ReplicaBugs.None ? $" --bug {ReplicaBugs}" : string.Empty)
        + (SnapshotEvery != new RaftSimulationSettings().SnapshotEvery ? $" --snapshot-every {SnapshotEvery}" : string.Empty)
        + (ReadOnlyOption == ReadOnlyOption.LeaseBased ? " --lease-reads" : string.Empty);

    public static string FaultsArgument(SimFaults faults) =>
        faults == SimFaults.All ? "all" : faults == SimFaults.None ? "none" : string.Join(',', Enum.GetValues<SimFaults>().Where(f => f is not (SimFaults.None or SimFaults.All) && faults.HasFlag(f)).Select(f => f.ToString().ToLowerInvariant()));
}
