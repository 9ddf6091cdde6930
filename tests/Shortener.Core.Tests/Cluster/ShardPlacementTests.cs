using Shortener.Core.Cluster;

namespace Shortener.Core.Tests.Cluster;

public class ShardPlacementTests
{
    private static ClusterMember[] Members(int n, int dcs) =>
        Enumerable.Range(1, n).Select(i => new ClusterMember((ulong)i, $"dc{((i - 1) % dcs) + 1}", $"http://127.0.0.1:{9000 + i}", $"http://127.0.0.1:{8000 + i}")).ToArray();

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5, 3)]
    [InlineData(6, 2)]
    [InlineData(9, 3)]
    public void Voters_are_distinct_nodes_in_as_many_data_centres_as_possible_and_everyone_else_learns(int n, int dcs)
    {
        var members = Members(n, dcs);
        var placement = ShardPlacement.Place(members, 16, 3);
        Assert.Equal(16, placement.Count);
        foreach (var shard in placement)
        {
            Assert.Equal(3, shard.Voters.Distinct().Count());
            Assert.Equal(Math.Min(3, dcs), shard.Voters.Select(v => members.Single(m => m.Id == v).Dc).Distinct().Count());
            Assert.Equal(n - 3, shard.Learners.Count);
            Assert.Empty(shard.Voters.Intersect(shard.Learners));
        }

        // Voting load spreads: no node votes in more than twice its fair share.
        var load = members.ToDictionary(m => m.Id, m => placement.Count(p => p.Voters.Contains(m.Id)));
        Assert.All(load.Values, v => Assert.InRange(v, 1, 2 * 16 * 3 / n + 1));
    }

    [Fact]
    public void Fewer_nodes_than_the_replication_factor_makes_every_node_a_voter()
    {
        var placement = ShardPlacement.Place(Members(2, 2), 4, 3);
        Assert.All(placement, p => Assert.Equal([1UL, 2UL], p.Voters));
        Assert.All(placement, p => Assert.Empty(p.Learners));
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(6, 3)]
    [InlineData(7, 3)]
    [InlineData(5, 2)]
    public void The_nodes_of_a_data_centre_share_its_votes_evenly(int n, int dcs)
    {
        // Members(n, dcs) deals data centres round-robin: with 4 nodes in 3, nodes 1 and 4 are both in dc1.
        var placement = ShardPlacement.Place(Members(n, dcs), 16, 3);
        var votes = Enumerable.Range(1, n).ToDictionary(id => id, id => placement.Count(p => p.Voters.Contains((ulong)id)));
        foreach (var dc in Enumerable.Range(1, n).GroupBy(id => (id - 1) % dcs))
        {
            var counts = dc.Select(id => votes[id]).ToList();
            Assert.True(counts.Max() - counts.Min() <= 2, $"dc{dc.Key + 1}: votes {string.Join(", ", counts)}");
        }

        Assert.All(placement, p => Assert.Equal(Math.Min(3, dcs), p.Voters.Select(v => ((int)v - 1) % dcs).Distinct().Count()));
    }

    [Fact]
    public void Placement_is_deterministic_whatever_the_member_order()
    {
        var members = Members(7, 3);
        var a = ShardPlacement.Place(members, 16, 3);
        var b = ShardPlacement.Place(members.Reverse().ToArray(), 16, 3);
        Assert.Equal(a.Select(p => string.Join(',', p.Voters)), b.Select(p => string.Join(',', p.Voters)));
    }

    [Fact]
    public void A_topology_with_mistakes_lists_each_of_them()
    {
        var bad = new ClusterTopology(
            [new(1, "dc1", "http://a:1", "http://a:2"), new(1, "", "http://a:1", "not a url"), new(0, "dc2", "http://b:1", "http://b:2")],
            0,
            0,
            1,
            3);
        var errors = bad.Validate();
        Assert.Contains(errors, e => e.Contains("member id 1 appears 2 times"));
        Assert.Contains(errors, e => e.Contains("ids must be positive"));
        Assert.Contains(errors, e => e.Contains("no data centre"));
        Assert.Contains(errors, e => e.Contains("absolute"));
        Assert.Contains(errors, e => e.Contains("peer address http://a:1 is shared"));
        Assert.Contains(errors, e => e.Contains("shards must be"));
        Assert.Contains(errors, e => e.Contains("replication factor"));
        Assert.Contains(errors, e => e.Contains("code length"));
        Assert.Empty(new ClusterTopology(Members(3, 3), 16, 3, 1, 7).Validate());
    }
}
