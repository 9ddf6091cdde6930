using Shortener.Core;
using Shortener.Core.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>
/// What a nemesis can do to a simulated cluster, shared by its random faults and its aimed
/// reactions: cut a node off, crash and restart one, take a leader's place from it, heal, and note
/// each in the run's fault log. Every action draws from the one random source of the run, so the
/// order in which they are called is part of what a seed replays.
/// </summary>
public sealed class FaultActions(RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimReplica> nodes)
{
    /// <summary>The run's faults, in order, with their simulated time.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Faults are injected until the end of the fault phase.</summary>
    public bool Active => scheduler.Now < settings.FaultPhaseMs;

    /// <summary>A voter kept cut off while a reconfiguration goes on without it (0: none); <see cref="Heal"/> leaves it out.</summary>
    public ulong LaggingVoter { get; set; }

    public SimReplica? CurrentLeader() =>
        nodes.Where(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();

    public void Isolate(SimReplica node, string who)
    {
        if (!Active)
        {
            return;
        }

        Heal();
        network.Split([node.Id], nodes.Select(n => n.Id).Where(i => i != node.Id).ToList(), $"{who} {node.Id} isolated");
        Note("partition: " + network.Partition);

        // A cut-off leader whose clock also runs slow (a stalled process, a starved VM) believes
        // for longer that it leads: the window in which a leader that skips confirming its reads
        // answers them stale.
        if (settings.Faults.HasFlag(SimFaults.Aimed) && settings.Faults.HasFlag(SimFaults.Clock) && node.Up && node.Raft.Role == RaftRole.Leader && random.Chance(0.5))
        {
            var skew = node.ClockSkew;
            node.ClockSkew = 2.5 + (random.NextDouble() * 1.5);
            Note($"clock of node {node.Id} now runs at {1 / node.ClockSkew:F2}x");
            scheduler.After(300 + random.Next(700), () => node.ClockSkew = skew);
        }
    }

    /// <summary>A power loss (with disk faults, torn and bit-flipped tails), then a restart <paramref name="downForMs"/> later.</summary>
    public void CrashAndRestart(SimReplica node, int downForMs, string? why = null)
    {
        if (!node.Up)
        {
            return;
        }

        var torn = settings.Faults.HasFlag(SimFaults.Disk);
        var what = node.Crash(torn);
        Note($"crash node {node.Id}{(why is null ? string.Empty : " " + why)} ({what}) for {downForMs} ms");
        scheduler.After(downForMs, () =>
        {
            node.Restart();
            Note($"restart node {node.Id}");
        });
    }

    /// <summary>The leader loses its place: cut off, crashed, or handed over to another voter.</summary>
    public void ChangeLeader(SimReplica leader, string when)
    {
        if (!Active || !leader.Up || leader.Raft.Role != RaftRole.Leader)
        {
            return;
        }

        switch (random.Next(3))
        {
            case 0:
                Isolate(leader, $"leader {when}");
                break;
            case 1:
                CrashAndRestart(leader, 20 + random.Next(500), $"leader {when}");
                break;
            default:
                Transfer(leader, " " + when);
                break;
        }
    }

    /// <summary>Asks <paramref name="leader"/> to hand its leadership to another voter, chosen at random.</summary>
    public void Transfer(SimReplica leader, string when = "")
    {
        var voters = leader.Raft.ConfState.Voters.Where(v => v != leader.Id).ToList();
        if (voters.Count == 0)
        {
            return;
        }

        var target = voters[random.Next(voters.Count)];
        leader.Request(raft => raft.TransferLeadership(target));
        Note($"transfer: leader {leader.Id} hands over to {target}{when}");
    }

    /// <summary>Ends the current partition, but a voter kept out of a reconfiguration stays out until its own time is up.</summary>
    public void Heal()
    {
        network.Heal();
        if (LaggingVoter != 0)
        {
            network.Split([LaggingVoter], nodes.Select(n => n.Id).Where(i => i != LaggingVoter).ToList(), $"lagging voter {LaggingVoter} isolated");
        }
    }

    public void Note(string what) => Log.Add($"t={scheduler.Now}ms {what}");
}
