using Shortener.Core;
using Shortener.Core.Membership;

namespace Shortener.Simulation.Membership;

/// <summary>
/// Many <see cref="SwimNode"/>s on one virtual clock and a network that delays (with jitter, so
/// it reorders), drops, duplicates and partitions, all from one seed. Members can crash (they stop
/// ticking and answering) and restart (a fresh node with incarnation 0 that joins again). It
/// records every verdict of death so tests can tell true detections from false ones.
/// </summary>
public sealed class GossipSimulation
{
    private readonly GossipSimulationSettings _settings;
    private readonly SeededRandom _random;
    private readonly Dictionary<ulong, SwimNode> _nodes = [];
    private readonly HashSet<ulong> _crashed = [];
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private readonly List<GossipMember> _all = [];

    public GossipSimulation(GossipSimulationSettings settings)
    {
        settings.Gossip.Validate();
        _settings = settings;
        _random = new SeededRandom(settings.Seed);
        for (var i = 1; i <= settings.Members; i++)
        {
            _all.Add(Describe((ulong)i));
        }
    }

    public SimScheduler Scheduler { get; } = new();

    public long Now => Scheduler.Now;

    public long MessagesSent { get; private set; }

    public long MessagesDropped { get; private set; }

    /// <summary>Times a running member was declared dead by another (false positives).</summary>
    public long FalseDeaths { get; private set; }

    /// <summary>Times a running member was suspected by another.</summary>
    public long Suspicions { get; private set; }

    /// <summary>When each (observer, subject) pair first saw the subject dead or left.</summary>
    public Dictionary<(ulong Observer, ulong Subject), long> DeathsSeen { get; } = [];

    public IReadOnlyCollection<ulong> Running => _nodes.Keys.Where(id => !_crashed.Contains(id)).ToList();

    public SwimNode Node(ulong id) => _nodes[id];

    public bool IsCrashed(ulong id) => _crashed.Contains(id);

    /// <summary>
    /// Starts every member. With <paramref name="everyoneKnown"/> each starts knowing all the
    /// others (as a Shortener node does from the cluster's member list); otherwise each knows
    /// only member 1 and joins through it.
    /// </summary>
    public void Start(bool everyoneKnown = true)
    {
        foreach (var member in _all)
        {
            var node = NewNode(member.Id);
            node.Join(everyoneKnown ? _all : [_all[0]]);
        }
    }

    /// <summary>Adds member <paramref name="id"/> (one more than started) that knows only <paramref name="seed"/>.</summary>
    public SwimNode Add(ulong id, ulong seed)
    {
        var node = NewNode(id);
        node.Join([_nodes[seed].Self]);
        return node;
    }

    public void Crash(ulong id) => _crashed.Add(id);

    /// <summary>A crashed member comes back as a new process: incarnation 0, joining through the others it knows from configuration.</summary>
    public SwimNode Restart(ulong id)
    {
        _crashed.Remove(id);
        var node = NewNode(id);
        node.Join(_all);
        return node;
    }

    public void Partition(IReadOnlyCollection<ulong> a, IReadOnlyCollection<ulong> b)
    {
        foreach (var x in a)
        {
            foreach (var y in b)
            {
                _blocked.Add((x, y));
                _blocked.Add((y, x));
            }
        }
    }

    public void Heal() => _blocked.Clear();

    public void RunFor(long ms) => Scheduler.Run(Now + ms);

    /// <summary>Runs until <paramref name="done"/> holds (checked every tick); the time it took, or null if <paramref name="maxMs"/> passed first.</summary>
    public long? RunUntil(Func<bool> done, long maxMs)
    {
        var start = Now;
        var step = _settings.Gossip.TickMs;
        while (Now - start < maxMs)
        {
            if (done())
            {
                return Now - start;
            }

            Scheduler.Run(Now + step);
        }

        return done() ? Now - start : null;
    }

    private SwimNode NewNode(ulong id)
    {
        var node = new SwimNode(Describe(id), _settings.Gossip, new SeededRandom(_random.NextUInt64()));
        _nodes[id] = node;
        // Each process ticks on its own phase, as real timers would.
        ScheduleTick(node, 1 + _random.Next(_settings.Gossip.TickMs));
        return node;
    }

    private void ScheduleTick(SwimNode node, long delay) => Scheduler.After(delay, () =>
    {
        if (_nodes[node.Id] != node || _crashed.Contains(node.Id))
        {
            return;
        }

        node.Tick();
        Flush(node);
        ScheduleTick(node, _settings.Gossip.TickMs);
    });

    private void Flush(SwimNode node)
    {
        foreach (var e in node.TakeEvents())
        {
            var subject = e.Member.Id;
            var running = _nodes.ContainsKey(subject) && !_crashed.Contains(subject);
            if (e.Member.Status == MemberStatus.Suspect && running)
            {
                Suspicions++;
            }

            if (e.Member.Status is MemberStatus.Dead or MemberStatus.Left)
            {
                DeathsSeen.TryAdd((node.Id, subject), Now);
                if (running && e.Member.Status == MemberStatus.Dead)
                {
                    FalseDeaths++;
                }
            }
        }

        foreach (var message in node.TakeMessages())
        {
            Send(message);
        }
    }

    private void Send(GossipMessage message)
    {
        MessagesSent++;
        if (_blocked.Contains((message.From, message.To)) || _random.Chance(_settings.DropRate))
        {
            MessagesDropped++;
            return;
        }

        var copies = _random.Chance(_settings.DuplicateRate) ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var delay = _settings.MinDelayMs + _random.Next((int)(_settings.MaxDelayMs - _settings.MinDelayMs + 1));
            Scheduler.After(delay, () =>
            {
                if (_blocked.Contains((message.From, message.To)) || _crashed.Contains(message.To) || !_nodes.TryGetValue(message.To, out var target))
                {
                    return;
                }

                target.Step(message);
                Flush(target);
            });
        }
    }

    private GossipMember Describe(ulong id) => new(
        id,
        $"dc{((id - 1) % (ulong)_settings.Dcs) + 1}",
        $"http://10.0.0.{id}:9080",
        $"http://10.0.0.{id}:8080",
        [],
        0,
        MemberStatus.Alive);
}
