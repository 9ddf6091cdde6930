using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// A Raft cluster of <see cref="SimNode"/>s serving a key-value store to <see cref="SimClient"/>s,
/// under a nemesis that partitions, crashes, pauses, skews clocks and corrupts the network, all
/// from one seed. After the fault phase everything heals; then a leader must appear and every
/// operation finish within a bound (liveness), and the history must be linearizable and the Raft
/// invariants hold (safety).
/// </summary>
public sealed class RaftSimulation(RaftSimulationSettings settings)
{
    private readonly List<string> _faultLog = [];

    public RaftSimulationReport Run()
    {
        var random = new SeededRandom(settings.Seed);
        var scheduler = new SimScheduler();
        var invariants = new RaftInvariants(scheduler);
        var ids = Enumerable.Range(1, settings.Nodes).Select(i => (ulong)i).ToList();
        var nodes = new Dictionary<ulong, SimNode>();
        var network = new SimNetwork(scheduler, random, m =>
        {
            if (nodes.TryGetValue(m.To, out var target))
            {
                target.Receive(m);
            }
        });
        var config = ConfState.Of([.. ids]);
        long[] messageSizes = [1, 1, 64, 4096];
        var maxSize = messageSizes[random.Next(messageSizes.Length)];
        foreach (var id in ids)
        {
            nodes[id] = new SimNode(id, config, settings, scheduler, network, new SeededRandom(random.NextUInt64()), invariants, maxSize);
        }

        var nodeList = ids.Select(i => nodes[i]).ToList();
        var history = new List<RegisterOperation>();
        var clients = Enumerable.Range(1, settings.Clients)
            .Select(c => new SimClient(c, settings, scheduler, new SeededRandom(random.NextUInt64()), nodeList, history))
            .ToList();
        for (var i = 0; i < clients.Count; i++)
        {
            clients[i].Quota = (settings.Operations / clients.Count) + (i < settings.Operations % clients.Count ? 1 : 0);
            clients[i].ThinkMs = Math.Max(1, settings.FaultPhaseMs * clients.Count / Math.Max(1, settings.Operations) / 2);
            clients[i].Start();
        }

        if (settings.Faults != SimFaults.None)
        {
            ScheduleNemesis(scheduler, random, network, nodeList);
        }

        // Phase 1: faults. Phase 2: healed, until the clients are done or the liveness bound passes.
        // A safety violation ends the run at once, as does a message storm.
        bool Stop() => invariants.Violations.Count > 0 || scheduler.EventsRun > settings.MaxEvents;
        scheduler.Run(settings.FaultPhaseMs, Stop);
        if (Stop())
        {
            return Finish(scheduler, invariants, network, nodeList, history, ["run stopped at the first violation"]);
        }

        HealAll(network, nodeList, scheduler.Now);
        var healedAt = scheduler.Now;
        if (settings.Faults.HasFlag(SimFaults.Membership))
        {
            RestoreMembership(scheduler, nodeList, healedAt + (settings.LivenessBoundMs / 2));
        }

        var deadline = healedAt + settings.LivenessBoundMs;
        bool HasLeader() => nodeList.Any(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader);
        scheduler.Run(deadline, () => Stop() || (clients.All(c => c.Done) && HasLeader()));
        if (Stop())
        {
            return Finish(scheduler, invariants, network, nodeList, history, ["run stopped at the first violation"]);
        }


        var liveness = new List<string>();
        if (!HasLeader())
        {
            liveness.Add($"liveness: no leader {settings.LivenessBoundMs} ms after the faults stopped");
        }

        if (!clients.All(c => c.Done))
        {
            liveness.Add($"liveness: client operations still pending {settings.LivenessBoundMs} ms after the faults stopped");
        }

        // Operations invoked a while after the heal must all succeed: the cluster is whole again.
        var settle = healedAt + Math.Min(3_000, settings.LivenessBoundMs / 2);
        var lateFailures = history.Where(o => o.Invoke >= settle && o.Status != OperationStatus.Ok).ToList();
        if (lateFailures.Count > 0)
        {
            liveness.Add($"liveness: {lateFailures.Count} operations invoked after the cluster healed did not succeed, first: {lateFailures[0]}");
        }

        // Final reads of every key through the healed cluster (retried, as a client would, on a node
        // that knows no leader yet): each must answer within the bound, and joins the history.
        var finalReader = new SimClient(settings.Clients + 1, settings, scheduler, new SeededRandom(random.NextUInt64()), nodeList, history);
        var readDeadline = scheduler.Now + settings.LivenessBoundMs;
        for (var k = 0; k < settings.Keys; k++)
        {
            var key = $"k{k}";
            var answered = false;
            while (!answered && scheduler.Now < readDeadline)
            {
                finalReader.Read(key, op => answered = op.Status == OperationStatus.Ok);
                scheduler.Run(readDeadline, () => Stop() || answered || !finalReader.Busy);
            }

            if (!answered)
            {
                liveness.Add($"liveness: the final read of {key} did not answer on a healed cluster");
            }
        }

        return Finish(scheduler, invariants, network, nodeList, history, liveness);
    }

    private RaftSimulationReport Finish(SimScheduler scheduler, RaftInvariants invariants, SimNetwork network, IReadOnlyList<SimNode> nodeList, List<RegisterOperation> history, IReadOnlyList<string> notes)
    {
        invariants.CheckLogs(nodeList.Select(n => (n.Id, n.Storage)).ToList());
        var linearizability = LinearizabilityChecker.Check(history);
        var violations = new List<string>(invariants.Violations);
        if (!linearizability.Linearizable)
        {
            violations.Add("linearizability: " + linearizability.Describe());
        }
        else if (linearizability.Inconclusive)
        {
            // A check that ran out of budget proved nothing: it is not a pass.
            violations.Add("linearizability: " + linearizability.Describe() + " (the history is too concurrent for the search budget)");
        }

        if (scheduler.EventsRun > settings.MaxEvents)
        {
            violations.Add($"liveness: message storm, more than {settings.MaxEvents} events");
        }

        // Notes only matter when something is wrong (a stopped run says why it stopped).
        if (violations.Count > 0 || notes.Any(n => n.StartsWith("liveness", StringComparison.Ordinal)))
        {
            violations.AddRange(notes.Where(n => n.StartsWith("liveness", StringComparison.Ordinal)));
        }

        return new RaftSimulationReport(
            settings,
            violations.Distinct().ToList(),
            history,
            linearizability,
            scheduler.Now,
            scheduler.EventsRun,
            network.Sent,
            network.Dropped,
            invariants.Elections,
            nodeList.Sum(n => n.Crashes),
            _faultLog,
            nodeList.Select(n => n.ToString()).ToList());
    }

    private void ScheduleNemesis(SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimNode> nodes)
    {
        var faults = settings.Faults;
        if (faults.HasFlag(SimFaults.Churn) && (!faults.HasFlag(SimFaults.Partition) || random.Chance(0.3)))
        {
            ScheduleChurn(scheduler, random, network, nodes);
            faults &= ~SimFaults.Partition;
        }
        if (faults.HasFlag(SimFaults.Network))
        {
            network.DropRate = random.NextDouble() * 0.15;
            network.DuplicateRate = random.NextDouble() * 0.10;
            network.SlowRate = random.NextDouble() * 0.05;
            network.MaxDelayMs = 2 + random.Next(15);
            Log(scheduler, $"network: drop {network.DropRate:P0}, duplicate {network.DuplicateRate:P0}, slow {network.SlowRate:P0}, delay 1-{network.MaxDelayMs} ms");
        }

        if (faults.HasFlag(SimFaults.Clock))
        {
            foreach (var node in nodes)
            {
                node.ClockSkew = 0.7 + (random.NextDouble() * 0.6);
            }
        }

        var actions = new List<Action>();
        if (faults.HasFlag(SimFaults.Partition))
        {
            // Now and then cut a brand-new leader off before its first entries replicate: the
            // window in which figure-8 histories (entries on too few nodes, in several terms) form.
            foreach (var node in nodes)
            {
                node.BecameLeader += leader =>
                {
                    if (scheduler.Now < settings.FaultPhaseMs && random.Chance(0.35))
                    {
                        scheduler.After(random.Next(80), () =>
                        {
                            if (scheduler.Now >= settings.FaultPhaseMs)
                            {
                                return;
                            }

                            network.Heal();
                            network.Split([leader.Id], nodes.Select(n => n.Id).Where(i => i != leader.Id).ToList(), $"new leader {leader.Id} isolated");
                            Log(scheduler, "partition: " + network.Partition);
                        });
                    }
                };
            }

            actions.Add(() => Partition(scheduler, random, network, nodes));
            actions.Add(() =>
            {
                // Aimed at the leader: cut it off, often right after it was elected or appended,
                // which is when entries exist on too few nodes (the figure-8 situations).
                var leader = nodes.Where(n => n.Up && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();
                if (leader is null)
                {
                    return;
                }

                network.Heal();
                var others = nodes.Select(n => n.Id).Where(i => i != leader.Id).OrderBy(_ => random.Next(1000)).ToList();
                if (random.Chance(0.5) || nodes.Count < 5)
                {
                    network.Split([leader.Id], others, $"leader {leader.Id} isolated");
                }
                else
                {
                    // The leader keeps a minority: it appends entries that reach too few to commit.
                    var minority = others.Take((nodes.Count / 2) - 1).Append(leader.Id).ToList();
                    network.Split(minority, others.Except(minority).ToList(), $"leader {leader.Id} with minority [{string.Join(',', minority)}]");
                }

                Log(scheduler, "partition: " + network.Partition);
            });
            actions.Add(() =>
            {
                network.Heal();
                Log(scheduler, "heal partition");
            });
        }

        if (faults.HasFlag(SimFaults.Crash) || faults.HasFlag(SimFaults.Disk))
        {
            actions.Add(() =>
            {
                // Half the time, pick a node in the middle of a write: that is where lost or torn
                // writes and early acknowledgements show (the "buggify" idea: aim where bugs hide).
                var writing = nodes.Where(n => n.Up && n.Writing).ToList();
                var node = writing.Count > 0 && random.Chance(0.5) ? writing[random.Next(writing.Count)] : nodes[random.Next(nodes.Count)];
                if (!node.Up)
                {
                    return;
                }

                var torn = faults.HasFlag(SimFaults.Disk);
                node.Crash(torn);
                var downFor = 20 + random.Next(random.Chance(0.5) ? 300 : 3_000);
                Log(scheduler, $"crash node {node.Id}{(torn ? " (torn writes)" : string.Empty)} for {downFor} ms");
                scheduler.After(downFor, () =>
                {
                    node.Restart();
                    Log(scheduler, $"restart node {node.Id}");
                });
            });
        }

        if (faults.HasFlag(SimFaults.Membership))
        {
            actions.Add(() =>
            {
                var leader = CurrentLeader(nodes);
                if (leader is null)
                {
                    return;
                }

                var conf = leader.Raft.ConfState;
                var all = nodes.Select(n => n.Id).ToList();
                var missing = all.Where(id => !conf.Voters.Contains(id) && !conf.Learners.Contains(id)).ToList();
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
                Log(scheduler, $"membership: leader {leader.Id} proposes {change}");
            });
            actions.Add(() =>
            {
                var leader = CurrentLeader(nodes);
                var voters = leader?.Raft.ConfState.Voters.Where(v => v != leader.Id).ToList();
                if (leader is null || voters!.Count == 0)
                {
                    return;
                }

                var target = voters[random.Next(voters.Count)];
                leader.Request(raft => raft.TransferLeadership(target));
                Log(scheduler, $"transfer: leader {leader.Id} hands over to {target}");
            });
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
                Log(scheduler, $"pause node {node.Id} for {pauseFor} ms");
                scheduler.After(pauseFor, node.Resume);
            });
        }

        if (faults.HasFlag(SimFaults.Clock))
        {
            actions.Add(() =>
            {
                var node = nodes[random.Next(nodes.Count)];
                node.ClockSkew = 0.5 + (random.NextDouble() * 1.5);
                Log(scheduler, $"clock of node {node.Id} now runs at {1 / node.ClockSkew:F2}x");
            });
        }

        if (actions.Count == 0)
        {
            return;
        }

        void Next()
        {
            if (scheduler.Now >= settings.FaultPhaseMs)
            {
                return;
            }

            actions[random.Next(actions.Count)]();

            // Bursts of quick changes and calmer stretches.
            scheduler.After(random.Chance(0.3) ? 5 + random.Next(60) : 100 + random.Next(1_200), Next);
        }

        scheduler.After(random.Next(500), Next);
    }

    /// <summary>
    /// Cuts off whoever leads, each time at a random moment soon after it wins (before or while
    /// its first entries replicate), then lets the rest elect someone else, over and over.
    /// </summary>
    private void ScheduleChurn(SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimNode> nodes)
    {
        ulong lastCut = 0;
        ulong lastTerm = 0;

        void Watch()
        {
            if (scheduler.Now >= settings.FaultPhaseMs)
            {
                return;
            }

            var leader = nodes.Where(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();
            if (leader is not null && (leader.Id != lastCut || leader.Raft.Term != lastTerm))
            {
                lastCut = leader.Id;
                lastTerm = leader.Raft.Term;
                var delay = random.Chance(0.2) ? 200 + random.Next(800) : random.Next(80);
                scheduler.After(delay, () =>
                {
                    if (scheduler.Now >= settings.FaultPhaseMs)
                    {
                        return;
                    }

                    network.Heal();
                    var others = nodes.Select(n => n.Id).Where(i => i != leader.Id).ToList();
                    network.Split([leader.Id], others, $"churn: leader {leader.Id} of term {lastTerm} cut off");
                    Log(scheduler, "partition: " + network.Partition);
                });
            }

            scheduler.After(5, Watch);
        }

        Log(scheduler, "nemesis: leader churn");
        scheduler.After(random.Next(200), Watch);
    }

    private void Partition(SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimNode> nodes)
    {
        network.Heal();
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
                var inbound = random.Chance(0.5);
                if (inbound)
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

        Log(scheduler, "partition: " + network.Partition);
    }

    private static SimNode? CurrentLeader(IReadOnlyList<SimNode> nodes) =>
        nodes.Where(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();

    /// <summary>After the heal, brings every node back in as a voter (the clients may use any of them), until <paramref name="until"/>.</summary>
    private void RestoreMembership(SimScheduler scheduler, IReadOnlyList<SimNode> nodes, long until)
    {
        if (scheduler.Now > until)
        {
            return;
        }

        var leader = CurrentLeader(nodes);
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
                    Log(scheduler, $"restore membership: {type} {next}: {result.Status}{(result.Reason is null ? string.Empty : " (" + result.Reason + ")")}");
                });
            }
        }

        // Keep watching: a change proposed during the faults may still commit after the heal.
        scheduler.After(50, () => RestoreMembership(scheduler, nodes, until));
    }

    private void HealAll(SimNetwork network, IReadOnlyList<SimNode> nodes, long now)
    {
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

        _faultLog.Add($"t={now}ms heal everything");
    }

    private void Log(SimScheduler scheduler, string what) => _faultLog.Add($"t={scheduler.Now}ms {what}");
}
