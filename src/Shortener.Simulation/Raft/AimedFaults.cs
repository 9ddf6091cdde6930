using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// The faults of <see cref="SimFaults.Aimed"/>: reactions to what the cluster just did, at the
/// moments where bugs hide (the idea of FoundationDB's buggify). A leader cut off right after it
/// acknowledged a write or moved its commit index, sometimes as a follower loses power in the
/// middle of its write; reads and writes sent to a leader the moment it wins and to the one it
/// deposed; the leader changed while a membership change or a snapshot transfer is under way; a
/// node restarted right after it applied a membership change or installed a snapshot. Each
/// reaction has its chance per occasion.
/// </summary>
public sealed class AimedFaults(RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, IReadOnlyList<SimReplica> nodes, List<RegisterOperation> history, FaultActions act)
{
    private int _probes;
    private SimReplica? _lastLeader;

    public void Start()
    {
        foreach (var node in nodes)
        {
            // A partition just after an acknowledgement: the client has its answer, the other
            // replicas may not yet know the entry is committed.
            node.Acknowledged += n =>
            {
                if (act.Active && n.Up && n.Raft.Role == RaftRole.Leader && random.Chance(0.15))
                {
                    scheduler.After(random.Next(3), () => act.Isolate(n, "leader just after an acknowledgement"));
                }
            };

            // Just after a leader moved its commit index: before the followers hear of it, and
            // sometimes as a follower that helped commit loses power in the middle of its write.
            node.CommitAdvanced += n =>
            {
                if (!act.Active || !random.Chance(0.04))
                {
                    return;
                }

                if (random.Chance(0.5) && nodes.Where(f => f != n && f.Up && f.Writing).ToList() is { Count: > 0 } writing)
                {
                    act.CrashAndRestart(writing[random.Next(writing.Count)], 20 + random.Next(300), "in the middle of a write as its leader is cut off");
                }

                act.Isolate(n, "leader just after it moved its commit index");
            };

            // Reads and writes right after an election, at the new leader and at the one it replaced.
            node.BecameLeader += n =>
            {
                var deposed = _lastLeader;
                _lastLeader = n;
                if (!act.Active || !random.Chance(0.5))
                {
                    return;
                }

                var reads = 1 + random.Next(3);
                for (var i = 0; i < reads; i++)
                {
                    Probe(n, write: i == 0 && random.Chance(0.4), after: random.Next(4));
                }

                // A deposed leader that has not noticed yet: a write to the new one, then reads of it.
                if (deposed is not null && deposed != n && deposed.Up && random.Chance(0.5))
                {
                    Probe(n, write: true, after: 0);
                    for (var i = 0; i < 3; i++)
                    {
                        Probe(deposed, write: false, after: 10 + random.Next(120));
                    }
                }
            };

            // A restart just after a snapshot install: what was persisted of it is all there is.
            node.InstalledSnapshot += n =>
            {
                if (act.Active && random.Chance(0.3))
                {
                    scheduler.After(random.Next(20), () => act.CrashAndRestart(n, 5 + random.Next(100), "just after it installed a snapshot"));
                }
            };

            // A leader change during a membership change; a restart just after one applied.
            node.MembershipChanged += n =>
            {
                if (!act.Active || !n.Up)
                {
                    return;
                }

                if (n.Raft.Role == RaftRole.Leader && random.Chance(0.3))
                {
                    scheduler.After(random.Next(10), () => act.ChangeLeader(n, "during a membership change"));
                }
                else if (n.Raft.Role != RaftRole.Leader && random.Chance(0.2))
                {
                    scheduler.After(random.Next(20), () => act.CrashAndRestart(n, 5 + random.Next(100), "just after a membership change"));
                }
            };

            // A leader change while a snapshot is on its way to a follower.
            node.SendingSnapshot += (leader, to) =>
            {
                if (act.Active && random.Chance(0.15))
                {
                    scheduler.After(random.Next(20), () => act.ChangeLeader(leader, $"while it sends node {to} a snapshot"));
                }
            };
        }
    }

    /// <summary>A one-off client operation sent straight to <paramref name="node"/>; it joins the history like any other.</summary>
    private void Probe(SimReplica node, bool write, long after)
    {
        var client = new SimClient(1_000 + ++_probes, settings, scheduler, new SeededRandom(random.NextUInt64()), nodes, history);
        var key = SimClient.Code(random.Next(settings.Keys));
        scheduler.After(after, () =>
        {
            if (write)
            {
                client.Write(key, node, _ => { });
            }
            else
            {
                client.Read(key, _ => { }, node);
            }
        });
    }
}
