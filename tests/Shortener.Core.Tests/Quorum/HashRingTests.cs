using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Quorum;

public class HashRingTests
{
    private static HashRing Ring(int nodes, int dcs = 3, int vnodes = HashRing.DefaultVirtualNodes) =>
        new(Enumerable.Range(1, nodes).Select(i => new RingNode((ulong)i, $"dc{((i - 1) % dcs) + 1}", HashRing.TokensFor((ulong)i, vnodes))));

    private static IEnumerable<ulong> Keys(int count) => Enumerable.Range(0, count).Select(i => HashRing.KeyHash($"link-{i}"));

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(12)]
    public void Virtual_nodes_spread_the_keys_evenly(int nodes)
    {
        var ring = Ring(nodes);
        var primaries = Keys(60_000).GroupBy(k => ring.Walk(k)[0]).ToDictionary(g => g.Key, g => g.Count());
        var fair = 60_000.0 / nodes;
        Assert.Equal(nodes, primaries.Count);
        // 16 tokens per node: every node within a factor of two of its fair share.
        Assert.All(primaries.Values, c => Assert.InRange(c, fair / 2, fair * 2));
    }

    [Fact]
    public void Three_replicas_over_three_data_centres_put_one_copy_in_each()
    {
        var ring = Ring(9);
        foreach (var key in Keys(2_000))
        {
            var replicas = ring.Replicas(key, 3);
            Assert.Equal(3, replicas.Distinct().Count());
            Assert.Equal(3, replicas.Select(r => ring.Node(r)!.Dc).Distinct().Count());
            Assert.Equal(replicas, ring.Replicas(key, 3));
        }

        // More replicas than data centres: the rest are the next distinct nodes.
        Assert.Equal(5, ring.Replicas(Keys(1).First(), 5).Distinct().Count());
        Assert.Equal(2, Ring(2).Replicas(Keys(1).First(), 3).Count);
    }

    [Fact]
    public void A_new_node_takes_keys_only_from_the_others_and_about_its_share()
    {
        var before = Ring(6);
        var after = Ring(7);
        var keys = Keys(30_000).ToList();
        var moved = keys.Count(k => before.Walk(k)[0] != after.Walk(k)[0]);
        Assert.All(keys.Where(k => before.Walk(k)[0] != after.Walk(k)[0]), k => Assert.Equal(7UL, after.Walk(k)[0]));
        Assert.InRange(moved, keys.Count / 7 / 2, keys.Count / 7 * 2);
    }

    [Fact]
    public void A_down_replica_is_stood_in_for_by_the_next_node_up_which_keeps_a_hint()
    {
        var ring = Ring(6);
        var key = Keys(1).First();
        var replicas = ring.Replicas(key, 3);
        var down = replicas[1];
        var targets = ring.Targets(key, 3, id => id != down);
        Assert.Equal(3, targets.Count);
        Assert.Equal(2, targets.Count(t => !t.IsHint));
        var hint = Assert.Single(targets, t => t.IsHint);
        Assert.Equal(down, hint.Owner);
        Assert.DoesNotContain(hint.Node, replicas);
        Assert.Equal(ring.Walk(key).First(id => !replicas.Contains(id)), hint.Node);
        Assert.Equal(ring.Node(down)!.Dc, hint.Dc);
        Assert.Equal(ring.Node(hint.Node)!.Dc, hint.NodeDc);

        // Everything down but one node: one copy, and nothing to stand in.
        var only = ring.Targets(key, 3, id => id == replicas[0]);
        var dc0 = ring.Node(replicas[0])!.Dc;
        Assert.Equal([new ReplicaTarget(replicas[0], replicas[0], dc0, dc0)], only);
    }
}
