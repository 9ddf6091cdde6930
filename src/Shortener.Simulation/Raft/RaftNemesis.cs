using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// The faults of one run, all drawn from its seed: random ones at random moments (network trouble,
/// partitions, leader churn, crashes, pauses, clock skew, membership changes, transfers), with
/// <see cref="AimedFaults"/> and <see cref="StaleConfigurationFaults"/> reacting to what the
/// cluster just did. Everything stops at the end of the fault phase; <see cref="HealAll"/> then
/// undoes what is left.
/// </summary>
public sealed class RaftNemesis(RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimReplica> nodes, List<RegisterOperation> history)
{
    private readonly FaultActions _act = new(settings, scheduler, random, network, nodes);

    public List<string> Log => _act.Log;

    public void Start()
    {
        var faults = settings.Faults;
        if (faults == SimFaults.None)
        {
            return;
        }

        if (faults.HasFlag(SimFaults.Churn) && (!faults.HasFlag(SimFaults.Partition) || random.Chance(0.3)))
        {
            ScheduleChurn();
            faults &= ~SimFaults.Partition;
        }

        if (faults.HasFlag(SimFaults.Network))
        {
            network.DropRate = random.NextDouble() * 0.15;
            network.DuplicateRate = random.NextDouble() * 0.10;
            network.SlowRate = random.NextDouble() * 0.05;
            network.MaxDelayMs = 2 + random.Next(15);
            _act.Note($"network: drop {network.DropRate:P0}, duplicate {network.DuplicateRate:P0}, slow {network.SlowRate:P0}, delay 1-{network.MaxDelayMs} ms");
        }

        if (faults.HasFlag(SimFaults.Clock))
        {
            foreach (var node in nodes)
            {
                node.ClockSkew = 0.7 + (random.NextDouble() * 0.6);
            }
        }

        if (faults.HasFlag(SimFaults.Aimed))
        {
            new AimedFaults(settings, scheduler, random, nodes, history, _act).Start();
        }

        StaleConfigurationFaults? stale = null;
        if (faults.HasFlag(SimFaults.Reconfigure))
        {
            stale = new StaleConfigurationFaults(scheduler, random, network, nodes, _act);
            stale.Start();
        }

        var actions = RandomActions(faults, stale);
        if (actions.Count == 0)
        {
            return;
        }

        void Next()
        {
            if (!_act.Active)
            {
                return;
            }

            actions[random.Next(actions.Count)]();

            // Bursts of quick changes and calmer stretches.
            scheduler.After(random.Chance(0.3) ? 5 + random.Next(60) : 100 + random.Next(1_200), Next);
        }

        scheduler.After(random.Next(500), Next);
    }

    /// <summary>After the heal, brings every node back in as a voter (the clients may use any of them), until <paramref name="until"/>.</summary>
    public void RestoreMembership(long until)
    {
        if (scheduler.Now > until)
        {
            return;
        }

        var leader = CurrentLeader();
        if (leader is not null)
        {
            var conf = leader.Raft.ConfState;
            var next = nodes.Select(n => n.Id).FirstOrDefault(id => !conf.Voters.Contains(id));
            if (conf.IsJoint)
            {
                leader.Request(raft => raft.ProposeConfChange(ConfChange.LeaveJoint));
            }
            else if (next != 0)
            {
                var type = conf.Learners.Contains(next) ? ConfChangeType.AddNode : ConfChangeType.AddLearner;
                leader.Request(raft =>
                {
                    var result = raft.ProposeConfChange(ConfChange.Single(type, next));
                    _act.Note($"restore membership: {type} {next}: {result.Status}{(result.Reason is null ? string.Empty : " (" + result.Reason + ")")}");
                });
            }
        }

        // Keep watching: a change proposed during the faults may still commit after the heal.
        scheduler.After(50, () => RestoreMembership(until));
    }

    public void HealAll()
    {
        _act.LaggingVoter = 0;
        network.Heal();
        network.DropRate = 0;
        network.DuplicateRate = 0;
        network.SlowRate = 0;
        foreach (var node in nodes)
        {
            node.ClockSkew = 1.0;
            node.Resume();
            node.Restart();
        }

        _act.Note("heal everything");
    }

    public SimReplica? CurrentLeader() => _act.CurrentLeader();

    private List<Action> RandomActions(SimFaults faults, StaleConfigurationFaults? stale)
    {
        var actions = new List<Action>();
        if (faults.HasFlag(SimFaults.Partition))
        {
            // Now and then cut a brand-new leader off before its first entries replicate: the
            // window in which figure-8 histories (entries on too few nodes, in several terms) form.
            foreach (var node in nodes)
            {
                node.BecameLeader += leader =>
                {
                    if (_act.Active && random.Chance(0.35))
                    {
                        scheduler.After(random.Next(80), () => _act.Isolate(leader, "new leader"));
                    }
                };
            }

            actions.Add(Partition);
            actions.Add(() =>
            {
                // Aimed at the leader: cut it off, often right after it was elected or appended,
                // which is when entries exist on too few nodes (the figure-8 situations).
                if (CurrentLeader() is not { } leader)
                {
                    return;
                }

                var others = nodes.Select(n => n.Id).Where(i => i != leader.Id).OrderBy(_ => random.Next(1000)).ToList();
                if (random.Chance(0.5) || nodes.Count < 5)
                {
                    _act.Isolate(leader, "leader");
                }
                else
                {
                    // The leader keeps a minority: it appends entries that reach too few to commit.
                    _act.Heal();
                    var minority = others.Take((nodes.Count / 2) - 1).Append(leader.Id).ToList();
                    network.Split(minority, others.Except(minority).ToList(), $"leader {leader.Id} with minority [{string.Join(',', minority)}]");
                    _act.Note("partition: " + network.Partition);
                }
            });
            actions.Add(() =>
            {
                _act.Heal();
                _act.Note("heal partition");
            });
        }

        if (faults.HasFlag(SimFaults.Crash) || faults.HasFlag(SimFaults.Disk))
        {
            actions.Add(() =>
            {
                // Most of the time, pick a node in the middle of a write: that is where lost or torn
                // writes and early acknowledgements show.
                var writing = nodes.Where(n => n.Up && n.Writing).ToList();
                var node = writing.Count > 0 && random.Chance(0.7) ? writing[random.Next(writing.Count)] : nodes[random.Next(nodes.Count)];
                _act.CrashAndRestart(node, 20 + random.Next(random.Chance(0.5) ? 300 : 3_000));
            });
        }

        if (faults.HasFlag(SimFaults.Membership))
        {
            actions.Add(ChangeMembership);
            actions.Add(() =>
            {
                if (CurrentLeader() is { } leader)
                {
                    _act.Transfer(leader);
                }
            });
        }

        if (stale is not null)
        {
            actions.Add(stale.Reconfigure);
        }

        if (faults.HasFlag(SimFaults.Pause))
        {
            actions.Add(() =>
            {
                var node = nodes[random.Next(nodes.Count)];
                if (!node.Up || node.Paused)
                {
                    return;
                }

                node.Pause();
                var pauseFor = 50 + random.Next(2_000);
                _act.Note($"pause node {node.Id} for {pauseFor} ms");
                scheduler.After(pauseFor, node.Resume);
            });
        }

        if (faults.HasFlag(SimFaults.Clock))
        {
            actions.Add(() =>
            {
                var node = nodes[random.Next(nodes.Count)];
                node.ClockSkew = 0.5 + (random.NextDouble() * 1.5);
                _act.Note($"clock of node {node.Id} now runs at {1 / node.ClockSkew:F2}x");
            });
        }

        return actions;
    }

    private void ChangeMembership()
    {
        if (CurrentLeader() is not { } leader)
        {
            return;
        }

        var conf = leader.Raft.ConfState;
        var missing = nodes.Select(n => n.Id).Where(id => !conf.Voters.Contains(id) && !conf.Learners.Contains(id)).ToList();
        var learner = conf.Learners.FirstOrDefault();
        ConfChange change;
        if (learner != 0)
        {
            change = ConfChange.Single(ConfChangeType.AddNode, learner);
        }
        else if (missing.Count > 0)
        {
            change = ConfChange.Single(ConfChangeType.AddLearner, missing[random.Next(missing.Count)]);
        }
        else if (conf.Voters.Count >= 3 && !conf.IsJoint)
        {
            var others = conf.Voters.Where(v => v != leader.Id).ToList();
            change = random.Chance(0.8)
                ? ConfChange.Single(ConfChangeType.RemoveNode, others[random.Next(others.Count)])
                : ConfChange.Single(ConfChangeType.RemoveNode, leader.Id);
        }
        else
        {
            return;
        }

        leader.Request(raft => raft.ProposeConfChange(change));
        _act.Note($"membership: leader {leader.Id} proposes {change}");
    }

    /// <summary>
    /// Cuts off whoever leads, each time at a random moment soon after it wins (before or while
    /// its first entries replicate), then lets the rest elect someone else, over and over.
    /// </summary>
    private void ScheduleChurn()
    {
        ulong lastCut = 0;
        ulong lastTerm = 0;

        void Watch()
        {
            if (!_act.Active)
            {
                return;
            }

            var leader = _act.CurrentLeader();
            if (leader is not null && (leader.Id != lastCut || leader.Raft.Term != lastTerm))
            {
                lastCut = leader.Id;
                lastTerm = leader.Raft.Term;
                var delay = random.Chance(0.2) ? 200 + random.Next(800) : random.Next(80);
                var term = lastTerm;
                scheduler.After(delay, () =>
                {
                    if (!_act.Active)
                    {
                        return;
                    }

                    _act.Heal();
                    var others = nodes.Select(n => n.Id).Where(i => i != leader.Id).ToList();
                    network.Split([leader.Id], others, $"churn: leader {leader.Id} of term {term} cut off");
                    _act.Note("partition: " + network.Partition);
                });
            }

            scheduler.After(5, Watch);
        }

        _act.Note("nemesis: leader churn");
        scheduler.After(random.Next(200), Watch);
    }

    private void Partition()
    {
        _act.Heal();
        var ids = nodes.Select(n => n.Id).OrderBy(_ => random.Next(1000)).ToList();
        switch (random.Next(5))
        {
            case 0:
            {
                var minority = ids.Take(ids.Count / 2).ToList();
                network.Split(minority, ids.Except(minority).ToList(), $"minority [{string.Join(',', minority)}] cut off");
                break;
            }

            case 1:
                network.Split([ids[0]], ids.Skip(1).ToList(), $"node {ids[0]} isolated");
                break;
            case 2:
            {
                // Bridge: two halves that only the middle node talks to.
                var bridge = ids[0];
                var left = ids.Skip(1).Take((ids.Count - 1) / 2).ToList();
                var right = ids.Skip(1 + left.Count).ToList();
                network.Split(left, right, $"bridge through {bridge}: [{string.Join(',', left)}] | [{string.Join(',', right)}]");
                break;
            }

            case 3:
            {
                // Ring: each node reaches only its neighbours, so majorities overlap without agreeing.
                var allowed = ids.Select((id, i) => (id, ids[(i + 1) % ids.Count])).ToList();
                network.AllowOnly(ids, allowed, $"ring {string.Join('-', ids)}");
                break;
            }

            default:
            {
                var node = ids[0];
                if (random.Chance(0.5))
                {
                    network.Split(ids.Skip(1).ToList(), [node], $"one-way: nothing reaches node {node}", oneWay: true);
                }
                else
                {
                    network.Split([node], ids.Skip(1).ToList(), $"one-way: node {node} reaches nobody", oneWay: true);
                }

                break;
            }
        }

        _act.Note("partition: " + network.Partition);
    }
}
