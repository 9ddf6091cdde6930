using Shortener.Simulation.Election;

namespace Shortener.Simulation.Tests;

/// <summary>The bully algorithm message by message: a tiny network where a message arrives on the next tick unless its link is cut.</summary>
public sealed class BullyNodeTests
{
    private static readonly ulong[] Ids = [1, 2, 3, 4, 5];

    [Fact]
    public void The_highest_live_node_becomes_coordinator_and_the_others_follow_it()
    {
        var net = new Net(Ids);
        net.Run(30);

        Assert.Equal([5UL], net.Leaders());
        Assert.All(net.Nodes.Values, n => Assert.Equal(5UL, n.Leader));
    }

    [Fact]
    public void When_the_coordinator_dies_the_next_highest_takes_over_in_a_later_epoch()
    {
        var net = new Net(Ids);
        net.Run(30);
        var epoch = net.Nodes[5].Epoch;

        net.Crash(5);
        net.Run(40);

        Assert.Equal([4UL], net.Leaders());
        Assert.All(net.Nodes.Values.Where(n => n.Id != 5), n => Assert.Equal(4UL, n.Leader));
        Assert.NotEqual(epoch, net.Nodes[4].Epoch);
    }

    [Fact]
    public void A_partition_gives_each_side_its_own_coordinator_and_the_heal_leaves_the_highest()
    {
        var net = new Net(Ids);
        net.Run(30);

        // No quorum is asked: the side without node 5 elects its own highest, node 3.
        net.Cut([1, 2, 3], [4, 5]);
        net.Run(40);
        Assert.Equal([3UL, 5UL], net.Leaders());

        net.Heal();
        net.Run(40);
        Assert.Equal([5UL], net.Leaders());
        Assert.All(net.Nodes.Values, n => Assert.Equal(5UL, n.Leader));
    }

    [Fact]
    public void A_higher_node_that_hears_a_lower_coordinator_bullies_its_way_in_and_its_epoch_orders_after_what_it_heard()
    {
        var node = new BullyNode(4, Ids, new BullySettings());
        node.Receive(new BullyMessage(BullyMessageType.Coordinator, 2, 4, Epoch: 6, Stamp: 7));

        // Lamport: the receive moves its clock past the sender's stamp.
        Assert.Equal(BullyPhase.Electing, node.Phase);
        var election = Assert.Single(node.TakeMessages());
        Assert.Equal((BullyMessageType.Election, 4UL, 5UL), (election.Type, election.From, election.To));
        Assert.True(election.Stamp > 7);

        // Nobody higher answers in time: it leads, its epoch the Lamport time of its win, after
        // everything it heard of.
        for (var i = 0; i < new BullySettings().AnswerTicks; i++)
        {
            node.Tick();
        }

        Assert.True(node.IsLeader);
        Assert.True(node.Epoch > election.Stamp);
        Assert.All(node.TakeMessages(), m => Assert.Equal((BullyMessageType.Coordinator, node.Epoch), (m.Type, m.Epoch)));
    }

    [Fact]
    public void A_coordinator_elected_after_hearing_of_another_has_the_larger_epoch_but_two_elected_apart_are_not_ordered()
    {
        var net = new Net(Ids);
        net.Run(30);
        var first = net.Nodes[5].Epoch;

        // Node 5 dies; node 4 has heard from it, so its win comes after 5's in Lamport order.
        net.Crash(5);
        net.Run(40);
        Assert.True(net.Nodes[4].Epoch > first);
        Assert.All(net.Nodes.Values.Where(n => n.Id != 5), n => Assert.Equal(net.Nodes[4].Epoch, n.Epoch));
    }

    [Fact]
    public void An_election_from_a_lower_node_is_answered_and_a_coordinator_tells_it_who_leads()
    {
        var node = new BullyNode(5, Ids, new BullySettings());
        for (var i = 0; i < new BullySettings().TimeoutTicks; i++)
        {
            node.Tick();
        }

        Assert.True(node.IsLeader);
        node.TakeMessages();
        node.Receive(new BullyMessage(BullyMessageType.Election, 2, 5, 0));
        Assert.Equal([(BullyMessageType.Answer, 2UL, 0UL), (BullyMessageType.Coordinator, 2UL, node.Epoch)], node.TakeMessages().Select(m => (m.Type, m.To, m.Epoch)));
    }

    private sealed class Net(IReadOnlyList<ulong> ids)
    {
        private readonly HashSet<ulong> _down = [];
        private readonly HashSet<(ulong, ulong)> _cut = [];
        private List<BullyMessage> _inFlight = [];

        public Dictionary<ulong, BullyNode> Nodes { get; } = ids.ToDictionary(id => id, id => new BullyNode(id, ids, new BullySettings()));

        public IReadOnlyList<ulong> Leaders() => Nodes.Values.Where(n => n.IsLeader && !_down.Contains(n.Id)).Select(n => n.Id).Order().ToList();

        public void Crash(ulong id) => _down.Add(id);

        public void Cut(ulong[] a, ulong[] b)
        {
            foreach (var x in a)
            {
                foreach (var y in b)
                {
                    _cut.Add((x, y));
                    _cut.Add((y, x));
                }
            }
        }

        public void Heal() => _cut.Clear();

        public void Run(int ticks)
        {
            for (var t = 0; t < ticks; t++)
            {
                var arriving = _inFlight;
                _inFlight = [];
                foreach (var m in arriving.Where(m => !_down.Contains(m.To) && !_cut.Contains((m.From, m.To))))
                {
                    Nodes[m.To].Receive(m);
                }

                foreach (var node in Nodes.Values.Where(n => !_down.Contains(n.Id)))
                {
                    node.Tick();
                    _inFlight.AddRange(node.TakeMessages());
                }
            }
        }
    }
}
