using Shortener.Core;
using Shortener.Core.Raft;

namespace Shortener.Simulation.Raft;

/// <summary>
/// Carries Raft messages between simulated nodes with random delay (so messages reorder), loss
/// and duplication, and honours partitions as a set of blocked one-way links.
/// </summary>
public sealed class SimNetwork
{
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private readonly SimScheduler _scheduler;
    private readonly SeededRandom _random;
    private readonly Action<object> _arrive;

    public SimNetwork(SimScheduler scheduler, SeededRandom random, Action<RaftMessage> deliver)
    {
        _scheduler = scheduler;
        _random = random;

        // A partition that starts while a message is in flight cuts it too.
        _arrive = state =>
        {
            var message = (RaftMessage)state;
            if (!_blocked.Contains((message.From, message.To)))
            {
                deliver(message);
            }
        };
    }

    public double DropRate { get; set; }

    public double DuplicateRate { get; set; }

    public long MinDelayMs { get; set; } = 1;

    public long MaxDelayMs { get; set; } = 5;

    /// <summary>Chance that a message is held much longer than usual (a long reorder).</summary>
    public double SlowRate { get; set; }

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public string Partition { get; private set; } = "none";

    public void Send(RaftMessage message)
    {
        Sent++;
        if (_blocked.Contains((message.From, message.To)) || _random.Chance(DropRate))
        {
            Dropped++;
            return;
        }

        var copies = _random.Chance(DuplicateRate) ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var delay = MinDelayMs + _random.Next((int)(MaxDelayMs - MinDelayMs + 1));
            if (_random.Chance(SlowRate))
            {
                delay += _random.Next(20, 300);
            }

            _scheduler.After(delay, _arrive, message);
        }
    }

    public void Heal()
    {
        _blocked.Clear();
        Partition = "none";
    }

    /// <summary>Cuts every link between the two groups, both ways (or only from <paramref name="a"/> to <paramref name="b"/>).</summary>
    public void Split(IReadOnlyCollection<ulong> a, IReadOnlyCollection<ulong> b, string name, bool oneWay = false)
    {
        foreach (var x in a)
        {
            foreach (var y in b)
            {
                _blocked.Add((x, y));
                if (!oneWay)
                {
                    _blocked.Add((y, x));
                }
            }
        }

        Partition = name;
    }

    /// <summary>Cuts every link not in <paramref name="allowed"/> (undirected pairs).</summary>
    public void AllowOnly(IReadOnlyList<ulong> nodes, IReadOnlyCollection<(ulong, ulong)> allowed, string name)
    {
        foreach (var x in nodes)
        {
            foreach (var y in nodes)
            {
                if (x != y && !allowed.Contains((x, y)) && !allowed.Contains((y, x)))
                {
                    _blocked.Add((x, y));
                }
            }
        }

        Partition = name;
    }
}
