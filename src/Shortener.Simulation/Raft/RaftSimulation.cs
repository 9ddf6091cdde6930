using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// A link shard replicated by <see cref="SimReplica"/>s (the production replica driver, WAL and
/// link state machine on a simulated disk and network) serving <see cref="SimClient"/>s, under a
/// <see cref="RaftNemesis"/>, all from one seed. After the fault phase everything heals; then a
/// leader must appear and every operation finish within a bound (liveness), and the history must
/// be linearizable and the Raft invariants hold (safety).
/// </summary>
public sealed class RaftSimulation(RaftSimulationSettings settings)
{
    public RaftSimulationReport Run()
    {
        var random = new SeededRandom(settings.Seed);
        var scheduler = new SimScheduler();
        var invariants = new RaftInvariants(scheduler);
        var ids = Enumerable.Range(1, settings.Nodes).Select(i => (ulong)i).ToList();
        var nodes = new Dictionary<ulong, SimReplica>();
        var network = new SimNetwork(scheduler, random, m =>
        {
            if (nodes.TryGetValue(m.To, out var target))
            {
                target.Receive(m);
            }
        });
        var config = ConfState.Of([.. ids]);
        var initialState = SimClient.InitialState(settings.Keys);
        long[] messageSizes = [1, 1, 64, 4096];
        var maxSize = messageSizes[random.Next(messageSizes.Length)];
        foreach (var id in ids)
        {
            nodes[id] = new SimReplica(id, config, initialState, settings, scheduler, network, new SeededRandom(random.NextUInt64()), invariants, maxSize);
        }

        var nodeList = ids.Select(i => nodes[i]).ToList();
        var history = new List<RegisterOperation>();

        // Every link starts at its initial URL: the first write of each register, before anything.
        for (var k = 0; k < settings.Keys; k++)
        {
            history.Add(new RegisterOperation(0, SimClient.Code(k), RegisterOperationKind.Write, SimClient.InitialUrl, null, null, -1, -1, OperationStatus.Ok));
        }

        var clients = Enumerable.Range(1, settings.Clients)
            .Select(c => new SimClient(c, settings, scheduler, new SeededRandom(random.NextUInt64()), nodeList, history))
            .ToList();
        for (var i = 0; i < clients.Count; i++)
        {
            clients[i].Quota = (settings.Operations / clients.Count) + (i < settings.Operations % clients.Count ? 1 : 0);
            clients[i].ThinkMs = Math.Max(1, settings.FaultPhaseMs * clients.Count / Math.Max(1, settings.Operations) / 2);
            clients[i].Start();
        }

        var nemesis = new RaftNemesis(settings, scheduler, new SeededRandom(random.NextUInt64()), network, nodeList, history);
        nemesis.Start();
        PlayPartitions(scheduler, network, nodeList);

        // Phase 1: faults. Phase 2: healed, until the clients are done or the liveness bound passes.
        // A safety violation ends the run at once, as does a message storm.
        bool Stop() => invariants.Violations.Count > 0 || scheduler.EventsRun > settings.MaxEvents;
        scheduler.Run(settings.FaultPhaseMs, Stop);
        if (Stop())
        {
            return Finish(scheduler, invariants, network, nemesis, nodeList, history, ["run stopped at the first violation"]);
        }

        nemesis.HealAll();
        var healedAt = scheduler.Now;
        if (settings.Faults.HasFlag(SimFaults.Membership) || settings.Faults.HasFlag(SimFaults.Reconfigure))
        {
            nemesis.RestoreMembership(healedAt + (settings.LivenessBoundMs / 2));
        }

        var deadline = healedAt + settings.LivenessBoundMs;
        bool HasLeader() => nemesis.CurrentLeader() is not null;
        scheduler.Run(deadline, () => Stop() || (clients.All(c => c.Done) && HasLeader()));
        if (Stop())
        {
            return Finish(scheduler, invariants, network, nemesis, nodeList, history, ["run stopped at the first violation"]);
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
            var key = SimClient.Code(k);
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

        return Finish(scheduler, invariants, network, nemesis, nodeList, history, liveness);
    }

    private long _twoLeadersMs;

    /// <summary>
    /// The fixed partitions of <see cref="RaftSimulationSettings.Partitions"/>, and a count, tick by
    /// tick, of the time two nodes believed they led (a leader cut off from its quorum believes it
    /// until check-quorum makes it step down; it cannot commit meanwhile).
    /// </summary>
    private void PlayPartitions(SimScheduler scheduler, SimNetwork network, IReadOnlyList<SimReplica> nodes)
    {
        _twoLeadersMs = 0;
        if (settings.Partitions is not { } splits)
        {
            return;
        }

        foreach (var split in splits)
        {
            scheduler.At(split.StartMs, () =>
            {
                network.Heal();
                network.Split(split.SideA, split.SideB, split.ToString());
            });
            scheduler.At(split.EndMs, network.Heal);
        }

        void Sample()
        {
            if (nodes.Count(n => n.Up && n.Raft.Role == RaftRole.Leader) >= 2)
            {
                _twoLeadersMs += settings.TickMs;
            }

            scheduler.After(settings.TickMs, Sample);
        }

        scheduler.After(settings.TickMs, Sample);
    }

    private RaftSimulationReport Finish(SimScheduler scheduler, RaftInvariants invariants, SimNetwork network, RaftNemesis nemesis, IReadOnlyList<SimReplica> nodeList, List<RegisterOperation> history, IReadOnlyList<string> notes)
    {
        invariants.CheckLogs(nodeList.Where(n => n.Up).Select(n => (n.Id, n.Log)).ToList());
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
            nodeList.Sum(n => n.Disk.Syncs),
            nemesis.Log,
            nodeList.Select(n => n.ToString()).ToList())
        {
            TwoLeadersMs = _twoLeadersMs,
        };
    }
}
