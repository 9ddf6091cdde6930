using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// The faults of one run, all drawn from its seed: random ones at random moments (partitions,
/// crashes, pauses, clock skew, membership changes, transfers) and, with <see cref="SimFaults.Aimed"/>,
/// reactions to what the cluster just did, at the moments where bugs hide (the idea of
/// FoundationDB's buggify): a leader cut off right after it acknowledged a write or moved its
/// commit index (its clock sometimes slowed, as a leader stalled by a long pause is, so it believes
/// it leads for longer), with a follower losing power in the middle of its write at the same
/// moment; reads and writes sent to a leader the moment it wins and to the one it deposed; the
/// leader changed while a membership change or a snapshot transfer is under way; a node restarted
/// right after it applied a membership change or installed a snapshot. Everything stops at the end
/// of the fault phase; <see cref="HealAll"/> then undoes what is left.
/// </summary>
public sealed class RaftNemesis(RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, SimNetwork network, IReadOnlyList<SimReplica> nodes, List<RegisterOperation> history)
{
    private int _probes;
    private SimReplica? _lastLeader;
    private bool _growing = true;
    private ulong _lagging;
    private ulong _returning;

    public List<string> Log { get; } = [];

    private bool Active => scheduler.Now < settings.FaultPhaseMs;

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
            Note($"network: drop {network.DropRate:P0}, duplicate {network.DuplicateRate:P0}, slow {network.SlowRate:P0}, delay 1-{network.MaxDelayMs} ms");
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
            AimAtTheMoments();
        }

        if (faults.HasFlag(SimFaults.Reconfigure))
        {
            AimAtStaleConfigurations();
        }

        var actions = RandomActions(faults);
        if (actions.Count == 0)
        {
            return;
        }

        void Next()
        {
            if (!Active)
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
                    Note($"restore membership: {type} {next}: {result.Status}{(result.Reason is null ? string.Empty : " (" + result.Reason + ")")}");
                });
            }
        }

        // Keep watching: a change proposed during the faults may still commit after the heal.
        scheduler.After(50, () => RestoreMembership(until));
    }

    public void HealAll()
    {
        _lagging = 0;
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

        Log.Add($"t={scheduler.Now}ms heal everything");
    }

    public SimReplica? CurrentLeader() =>
        nodes.Where(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();

    private List<Action> RandomActions(SimFaults faults)
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
                    if (Active && random.Chance(0.35))
                    {
                        scheduler.After(random.Next(80), () => Isolate(leader, "new leader"));
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
                    Isolate(leader, "leader");
                }
                else
                {
                    // The leader keeps a minority: it appends entries that reach too few to commit.
                    Heal();
                    var minority = others.Take((nodes.Count / 2) - 1).Append(leader.Id).ToList();
                    network.Split(minority, others.Except(minority).ToList(), $"leader {leader.Id} with minority [{string.Join(',', minority)}]");
                    Note("partition: " + network.Partition);
                }
            });
            actions.Add(() =>
            {
                Heal();
                Note("heal partition");
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
                CrashAndRestart(node, 20 + random.Next(random.Chance(0.5) ? 300 : 3_000));
            });
        }

        if (faults.HasFlag(SimFaults.Membership))
        {
            actions.Add(ChangeMembership);
            actions.Add(() =>
            {
                var leader = CurrentLeader();
                var voters = leader?.Raft.ConfState.Voters.Where(v => v != leader.Id).ToList();
                if (leader is null || voters!.Count == 0)
                {
                    return;
                }

                var target = voters[random.Next(voters.Count)];
                leader.Request(raft => raft.TransferLeadership(target));
                Note($"transfer: leader {leader.Id} hands over to {target}");
            });
        }

        if (faults.HasFlag(SimFaults.Reconfigure))
        {
            actions.Add(Reconfigure);
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
                Note($"pause node {node.Id} for {pauseFor} ms");
                scheduler.After(pauseFor, node.Resume);
            });
        }

        if (faults.HasFlag(SimFaults.Clock))
        {
            actions.Add(() =>
            {
                var node = nodes[random.Next(nodes.Count)];
                node.ClockSkew = 0.5 + (random.NextDouble() * 1.5);
                Note($"clock of node {node.Id} now runs at {1 / node.ClockSkew:F2}x");
            });
        }

        return actions;
    }

    /// <summary>The reactions of <see cref="SimFaults.Aimed"/>, each with its chance per occasion.</summary>
    private void AimAtTheMoments()
    {
        foreach (var node in nodes)
        {
            // A partition just after an acknowledgement: the client has its answer, the other
            // replicas may not yet know the entry is committed.
            node.Acknowledged += n =>
            {
                if (Active && n.Up && n.Raft.Role == RaftRole.Leader && random.Chance(0.15))
                {
                    scheduler.After(random.Next(3), () => Isolate(n, "leader just after an acknowledgement"));
                }
            };

            // Just after a leader moved its commit index: before the followers hear of it, and
            // sometimes as a follower that helped commit loses power in the middle of its write.
            node.CommitAdvanced += n =>
            {
                if (!Active || !random.Chance(0.04))
                {
                    return;
                }

                if (random.Chance(0.5) && nodes.Where(f => f != n && f.Up && f.Writing).ToList() is { Count: > 0 } writing)
                {
                    CrashAndRestart(writing[random.Next(writing.Count)], 20 + random.Next(300), "in the middle of a write as its leader is cut off");
                }

                Isolate(n, "leader just after it moved its commit index");
            };

            // Reads and writes right after an election, at the new leader and at the one it replaced.
            node.BecameLeader += n =>
            {
                var deposed = _lastLeader;
                _lastLeader = n;
                if (!Active || !random.Chance(0.5))
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
                if (Active && random.Chance(0.3))
                {
                    scheduler.After(random.Next(20), () => CrashAndRestart(n, 5 + random.Next(100), "just after it installed a snapshot"));
                }
            };

            // A leader change during a membership change; a restart just after one applied.
            node.MembershipChanged += n =>
            {
                if (!Active || !n.Up)
                {
                    return;
                }

                if (n.Raft.Role == RaftRole.Leader && random.Chance(0.3))
                {
                    scheduler.After(random.Next(10), () => ChangeLeader(n, "during a membership change"));
                }
                else if (n.Raft.Role != RaftRole.Leader && random.Chance(0.2))
                {
                    scheduler.After(random.Next(20), () => CrashAndRestart(n, 5 + random.Next(100), "just after a membership change"));
                }
            };

            // A leader change while a snapshot is on its way to a follower.
            node.SendingSnapshot += (leader, to) =>
            {
                if (Active && random.Chance(0.15))
                {
                    scheduler.After(random.Next(20), () => ChangeLeader(leader, $"while it sends node {to} a snapshot"));
                }
            };
        }
    }

    /// <summary>The reactions of <see cref="SimFaults.Reconfigure"/>: restarts after a change or an install, then a partition along the change.</summary>
    private void AimAtStaleConfigurations()
    {
        foreach (var node in nodes)
        {
            node.MembershipChanged += n =>
            {
                if (Active && n.Up && n.Raft.Role != RaftRole.Leader && random.Chance(0.3))
                {
                    scheduler.After(random.Next(20), () => RestartAmongTheLeftOut(n, "just after a membership change"));
                }
            };
            node.InstalledSnapshot += n =>
            {
                var returning = n.Id == _returning;
                if (Active && (returning || random.Chance(0.15)))
                {
                    _returning = returning ? 0 : _returning;
                    scheduler.After(random.Next(20), () => RestartAmongTheLeftOut(n, "just after it installed a snapshot", always: returning));
                }
            };
        }
    }

    /// <summary>
    /// Restarts <paramref name="node"/>, then (half the time) cuts it off with the nodes the current
    /// configuration leaves out, and as many of its voters as make that side a majority of all the
    /// nodes while the other side stays a majority of the current voters: a node that came back
    /// with an old configuration may count that side as a quorum; with the right one it cannot.
    /// </summary>
    private void RestartAmongTheLeftOut(SimReplica node, string when, bool always = false)
    {
        if (!Active || !node.Up || CurrentLeader() is not { } leader)
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

        CrashAndRestart(node, 5 + random.Next(60), when);
        if (side.Count == 1 || !(always || random.Chance(0.5)))
        {
            return;
        }

        scheduler.After(80, () =>
        {
            if (!Active)
            {
                return;
            }

            Heal();
            network.Split(side, nodes.Select(n => n.Id).Except(side).ToList(), $"restarted node {node.Id} with [{string.Join(',', side.Where(id => id != node.Id))}]");
            Note("partition: " + network.Partition);
            scheduler.After(300 + random.Next(1_200), () =>
            {
                Heal();
                Note("heal partition");
            });
        });
    }

    /// <summary>Voters removed one change at a time down to a bare majority of the nodes, then added back (as learners, then promoted), over and over.</summary>
    private void Reconfigure()
    {
        if (CurrentLeader() is not { } leader || leader.Raft.ConfState.IsJoint)
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
                _lagging = id;
                Isolate(nodes.First(n => n.Id == id), "voter before the configuration shrinks,");
                scheduler.After(1_000 + random.Next(2_000), () =>
                {
                    _lagging = 0;
                    _returning = id;
                    network.Heal();
                    Note($"heal partition: lagging voter {id} is back");
                });
            }
        }

        ConfChange change;
        if (!_growing)
        {
            var others = conf.Voters.Where(v => v != leader.Id && v != _lagging).ToList();
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
        Note($"reconfigure: leader {leader.Id} proposes {change}");
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

    /// <summary>The leader loses its place: cut off, crashed, or (half the time when there are membership faults) a transfer.</summary>
    private void ChangeLeader(SimReplica leader, string when)
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
                var voters = leader.Raft.ConfState.Voters.Where(v => v != leader.Id).ToList();
                if (voters.Count > 0)
                {
                    var target = voters[random.Next(voters.Count)];
                    leader.Request(raft => raft.TransferLeadership(target));
                    Note($"transfer: leader {leader.Id} hands over to {target} {when}");
                }

                break;
        }
    }

    private void Isolate(SimReplica node, string who)
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

    private void CrashAndRestart(SimReplica node, int downForMs, string? why = null)
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
        Note($"membership: leader {leader.Id} proposes {change}");
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
            if (!Active)
            {
                return;
            }

            var leader = nodes.Where(n => n.Up && !n.Paused && n.Raft.Role == RaftRole.Leader).OrderByDescending(n => n.Raft.Term).FirstOrDefault();
            if (leader is not null && (leader.Id != lastCut || leader.Raft.Term != lastTerm))
            {
                lastCut = leader.Id;
                lastTerm = leader.Raft.Term;
                var delay = random.Chance(0.2) ? 200 + random.Next(800) : random.Next(80);
                var term = lastTerm;
                scheduler.After(delay, () =>
                {
                    if (!Active)
                    {
                        return;
                    }

                    Heal();
                    var others = nodes.Select(n => n.Id).Where(i => i != leader.Id).ToList();
                    network.Split([leader.Id], others, $"churn: leader {leader.Id} of term {term} cut off");
                    Note("partition: " + network.Partition);
                });
            }

            scheduler.After(5, Watch);
        }

        Note("nemesis: leader churn");
        scheduler.After(random.Next(200), Watch);
    }

    private void Partition()
    {
        Heal();
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

        Note("partition: " + network.Partition);
    }

    /// <summary>Ends the current partition, but a voter kept out of a reconfiguration stays out until its own time is up.</summary>
    private void Heal()
    {
        network.Heal();
        if (_lagging != 0)
        {
            network.Split([_lagging], nodes.Select(n => n.Id).Where(i => i != _lagging).ToList(), $"lagging voter {_lagging} isolated");
        }
    }

    private void Note(string what) => Log.Add($"t={scheduler.Now}ms {what}");
}
