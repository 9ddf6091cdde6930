using Shortener.Core;

namespace Shortener.Simulation.Election;

/// <summary>
/// <see cref="BullyNode"/>s elect a coordinator on one virtual clock, over a network that delays
/// messages 1-5 ms and honours a <see cref="PartitionSchedule"/>, while a client beside each node
/// writes to the coordinator that node knows. The coordinator is a primary: it appends the write to
/// its log, acknowledges it, and ships its whole log to the others with every heartbeat; a node
/// takes the log of the coordinator it follows (primary-backup, as systems that elect by bully
/// do). After the partitions the network heals and settles; then every write acknowledged and
/// missing from the final coordinator's log was lost.
/// </summary>
public sealed class BullySimulation(ulong seed, int nodes, long durationMs, IReadOnlyList<TimedSplit> splits)
{
    public const long TickMs = 10;
    private const long ClientIntervalMs = 40;
    private const long SettleMs = 3_000;

    private readonly SimScheduler _scheduler = new();
    private readonly SeededRandom _random = new(seed);
    private readonly Dictionary<ulong, BullyNode> _nodes = [];
    private readonly Dictionary<ulong, List<long>> _logs = [];
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private readonly Dictionary<ulong, HashSet<ulong>> _leadersOfEpoch = [];
    private readonly HashSet<long> _acknowledged = [];
    private long _twoLeadersMs;
    private long _nextValue = 1;

    public ElectionReport Run()
    {
        var ids = Enumerable.Range(1, nodes).Select(i => (ulong)i).ToList();
        foreach (var id in ids)
        {
            _nodes[id] = new BullyNode(id, ids, new BullySettings());
            _logs[id] = [];
            var node = id;
            _scheduler.After(1 + _random.Next((int)TickMs), () => Tick(node));
            _scheduler.After(ClientIntervalMs + _random.Next((int)ClientIntervalMs), () => ClientWrite(node));
        }

        foreach (var split in splits)
        {
            _scheduler.At(split.StartMs, () => Cut(split));
            _scheduler.At(split.EndMs, _blocked.Clear);
        }

        _scheduler.Run(durationMs + SettleMs);

        var leaders = _nodes.Values.Where(n => n.IsLeader).Select(n => n.Id).ToList();
        var final = leaders.Count == 1 ? _logs[leaders[0]] : [];
        var lost = _acknowledged.Count(v => !final.Contains(v));
        var notes = new List<string>();
        if (leaders.Count != 1)
        {
            notes.Add($"{leaders.Count} coordinators {SettleMs} ms after the heal");
        }

        var twoLeaderEpochs = _leadersOfEpoch.Where(e => e.Value.Count > 1).ToList();
        notes.AddRange(twoLeaderEpochs.Take(3).Select(e => $"epoch {e.Key} led by nodes {string.Join(", ", e.Value.Order())}"));
        return new ElectionReport(
            ElectionAlgorithm.Bully,
            seed,
            nodes,
            splits.Count,
            _leadersOfEpoch.Sum(e => e.Value.Count),
            twoLeaderEpochs.Count,
            _twoLeadersMs,
            _acknowledged.Count,
            lost,
            null,
            notes,
            []);
    }

    private void Cut(TimedSplit split)
    {
        _blocked.Clear();
        foreach (var a in split.SideA)
        {
            foreach (var b in split.SideB)
            {
                _blocked.Add((a, b));
                _blocked.Add((b, a));
            }
        }
    }

    private void Tick(ulong id)
    {
        var node = _nodes[id];
        var wasLeader = node.IsLeader;
        node.Tick();
        Flush(node, wasLeader);
        // Every node ticks at the same rhythm: node 1's ticks are the clock the two-leader time is counted on.
        if (id == 1 && _nodes.Values.Count(n => n.IsLeader) >= 2)
        {
            _twoLeadersMs += TickMs;
        }

        _scheduler.After(TickMs, () => Tick(id));
    }

    /// <summary>Sends what the node decided; a coordinator's heartbeats carry its log.</summary>
    private void Flush(BullyNode node, bool wasLeader)
    {
        if (node.IsLeader && !wasLeader)
        {
            _leadersOfEpoch.TryAdd(node.Epoch, []);
            _leadersOfEpoch[node.Epoch].Add(node.Id);
        }

        foreach (var message in node.TakeMessages())
        {
            Send(message.From, message.To, message);
            if (message.Type == BullyMessageType.Coordinator)
            {
                Send(message.From, message.To, new Replicate([.. _logs[node.Id]]));
            }
        }
    }

    private void Send(ulong from, ulong to, object payload)
    {
        if (_blocked.Contains((from, to)))
        {
            return;
        }

        _scheduler.After(1 + _random.Next(5), () => Deliver(from, to, payload));
    }

    private void Deliver(ulong from, ulong to, object payload)
    {
        var node = _nodes[to];
        switch (payload)
        {
            case BullyMessage message:
                var wasLeader = node.IsLeader;
                node.Receive(message);
                Flush(node, wasLeader);
                break;
            case Replicate replicate when node.Leader == from && !node.IsLeader:
                _logs[to] = [.. replicate.Log];
                break;
            case Write write when node.IsLeader:
                _logs[to].Add(write.Value);
                Send(to, from, new Ack(write.Value));
                break;
            case Ack ack:
                _acknowledged.Add(ack.Value);
                break;
        }
    }

    /// <summary>The client beside <paramref name="id"/> writes a new value to the coordinator that node follows, until the partitions are over.</summary>
    private void ClientWrite(ulong id)
    {
        if (_scheduler.Now >= durationMs)
        {
            return;
        }

        if (_nodes[id].Leader is var leader and not 0)
        {
            Send(id, leader, new Write(_nextValue++));
        }

        _scheduler.After(ClientIntervalMs, () => ClientWrite(id));
    }

    private sealed record Write(long Value);

    private sealed record Ack(long Value);

    private sealed record Replicate(long[] Log);
}
