using Shortener.Core;
using Shortener.Core.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>
/// The faults of <see cref="SimFaults.Reconfigure"/>, aimed at a node that acts on a configuration
/// the others have moved on from: voters removed one change at a time down to a bare majority and
/// added back (a voter that stays often kept out meanwhile, so it returns to a snapshot whose
/// configuration it never saw applied); a node restarted right after it applied a change or
/// installed a snapshot, then cut off together with the nodes the current configuration leaves
/// out, a side that an old configuration may count as a quorum.
/// </summary>
public sealed class StaleConfigurationFaults(SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimReplica> nodes, FaultActions act)
{
    private bool _growing = true;
    private ulong _returning;

    /// <summary>Watches for changes applied and snapshots installed.</summary>
    public void Start()
    {
        foreach (var node in nodes)
        {
            node.MembershipChanged += n =>
            {
                if (act.Active && n.Up && n.Raft.Role != RaftRole.Leader && random.Chance(0.3))
                {
                    scheduler.After(random.Next(20), () => RestartAmongTheLeftOut(n, "just after a membership change"));
                }
            };
            node.InstalledSnapshot += n =>
            {
                var returning = n.Id == _returning;
                if (act.Active && (returning || random.Chance(0.15)))
                {
                    _returning = returning ? 0 : _returning;
                    scheduler.After(random.Next(20), () => RestartAmongTheLeftOut(n, "just after it installed a snapshot", always: returning));
                }
            };
        }
    }

    /// <summary>One step of the shrinking and growing, as one of the nemesis's random actions.</summary>
    public void Reconfigure()
    {
        if (act.CurrentLeader() is not { } leader || leader.Raft.ConfState.IsJoint)
        {
            return;
        }

        var conf = leader.Raft.ConfState;
        var floor = Math.Max(2, (nodes.Count / 2) + 1);
        if (!_growing && conf.Voters.Count <= floor)
        {
            _growing = true;
        }
        else if (_growing && conf.Voters.Count == nodes.Count)
        {
            _growing = false;

            // Most of the time a voter that stays misses the shrinking, and the entries until it
            // needs a snapshot: when it comes back it is sent one whose configuration it never
            // saw applied.
            if (random.Chance(0.8) && conf.Voters.Where(v => v != leader.Id).ToList() is { Count: > 0 } followers)
            {
                var id = followers[random.Next(followers.Count)];
                act.LaggingVoter = id;
                act.Isolate(nodes.First(n => n.Id == id), "voter before the configuration shrinks,");
                scheduler.After(1_000 + random.Next(2_000), () =>
                {
                    act.LaggingVoter = 0;
                    _returning = id;
                    network.Heal();
                    act.Note($"heal partition: lagging voter {id} is back");
                });
            }
        }

        ConfChange change;
        if (!_growing)
        {
            var others = conf.Voters.Where(v => v != leader.Id && v != act.LaggingVoter).ToList();
            if (others.Count == 0)
            {
                return;
            }

            change = ConfChange.Single(ConfChangeType.RemoveNode, others[random.Next(others.Count)]);
        }
        else if (conf.Learners.FirstOrDefault() is var learner and not 0)
        {
            change = ConfChange.Single(ConfChangeType.AddNode, learner);
        }
        else if (nodes.Select(n => n.Id).FirstOrDefault(id => !conf.Voters.Contains(id)) is var missing and not 0)
        {
            change = ConfChange.Single(ConfChangeType.AddLearner, missing);
        }
        else
        {
            return;
        }

        leader.Request(raft => raft.ProposeConfChange(change));
        act.Note($"reconfigure: leader {leader.Id} proposes {change}");
    }

    /// <summary>
    /// Restarts <paramref name="node"/>, then (half the time) cuts it off with the nodes the current
    /// configuration leaves out, and as many of its voters as make that side a majority of all the
    /// nodes while the other side stays a majority of the current voters: a node that came back
    /// with an old configuration may count that side as a quorum; with the right one it cannot.
    /// </summary>
    private void RestartAmongTheLeftOut(SimReplica node, string when, bool always = false)
    {
        if (!act.Active || !node.Up || act.CurrentLeader() is not { } leader)
        {
            return;
        }

        var voters = leader.Raft.ConfState.Voters;
        var side = nodes.Select(n => n.Id).Where(id => !voters.Contains(id)).Append(node.Id).Distinct().ToList();
        foreach (var voter in voters.Where(v => v != leader.Id && !side.Contains(v)).OrderBy(_ => random.Next(1000)))
        {
            if (side.Count > nodes.Count / 2 || voters.Count(v => !side.Contains(v)) <= voters.Count / 2 + 1)
            {
                break;
            }

            side.Add(voter);
        }

        act.CrashAndRestart(node, 5 + random.Next(60), when);
        if (side.Count == 1 || !(always || random.Chance(0.5)))
        {
            return;
        }

        scheduler.After(80, () =>
        {
            if (!act.Active)
            {
                return;
            }

            act.Heal();
            network.Split(side, nodes.Select(n => n.Id).Except(side).ToList(), $"restarted node {node.Id} with [{string.Join(',', side.Where(id => id != node.Id))}]");
            act.Note("partition: " + network.Partition);
            scheduler.After(300 + random.Next(1_200), () =>
            {
                act.Heal();
                act.Note("heal partition");
            });
        });
    }
}
