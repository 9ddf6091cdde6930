using Shortener.Core.Clicks;
using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Clicks;

public class ClickAggregationTests
{
    [Fact]
    public void Ranges_cover_the_ring_once_and_agree_with_the_replicas_of_each_key()
    {
        var ring = new HashRing(Enumerable.Range(1, 5).Select(i => new RingNode((ulong)i, $"dc{((i - 1) % 3) + 1}", HashRing.TokensFor((ulong)i))));
        var ranges = ring.Ranges(3);
        Assert.Equal(80, ranges.Count);
        var random = new SeededRandom(7);
        foreach (var key in Enumerable.Range(0, 5_000).Select(_ => random.NextUInt64()).Concat([0UL, ulong.MaxValue]).Concat(ranges.SelectMany(r => new[] { r.From, r.To - 1, r.To })))
        {
            var holding = Enumerable.Range(0, ranges.Count).Where(i => ranges[i].Contains(key)).ToList();
            var index = Assert.Single(holding);
            Assert.Equal(index, HashRing.RangeOf(ranges, key));
            Assert.Equal(ring.Replicas(key, 3), ranges[index].Replicas);
        }

        var one = new HashRing([new RingNode(1, "dc1", [42])]).Ranges(3);
        Assert.True(Assert.Single(one).Contains(0) && one[0].Contains(ulong.MaxValue));
    }

    [Fact]
    public void Union_keeps_one_version_of_each_click_whichever_replica_sent_it()
    {
        var a = ClickTestCluster.Click("u");
        var b = ClickTestCluster.Click("u");
        var altered = a with { Referrer = "other.example" };
        var union = ClickAggregation.Union([[a, b], [altered], [b]]);
        Assert.Equal(2, union.Count);
        var kept = ClickHashes.ContentHash(a) < ClickHashes.ContentHash(altered) ? a : altered;
        Assert.Equal(kept, union[a.Id]);
        Assert.Equal(union[a.Id], ClickAggregation.Union([[altered], [a]])[a.Id]);
    }

    [Fact]
    public void The_in_memory_store_keeps_the_superseding_version_and_counts_new_clicks_only()
    {
        var store = new InMemoryClickReplicaStore();
        var a = ClickTestCluster.Click("m", day: 3);
        var altered = a with { Kind = ClickKind.Bot };
        Assert.Equal(1, store.Add([a, a]).Added);
        Assert.Equal(0, store.Add([altered]).Added);
        var kept = ClickHashes.Supersedes(ClickHashes.ContentHash(altered), ClickHashes.ContentHash(a)) ? altered : a;
        Assert.Equal(kept, Assert.Single(store.All));
        Assert.Equal(1, store.Fingerprint("m", 3, 3).Count);
        Assert.Equal(0, store.Fingerprint("m", 4, 9).Count);
    }

    [Fact]
    public void At_least_once_delivery_ids_differ_per_attempt_and_are_stable_for_one()
    {
        var id = Guid.NewGuid();
        Assert.Equal(ClickRelay.DeliveryId(id, 5), ClickRelay.DeliveryId(id, 5));
        Assert.NotEqual(ClickRelay.DeliveryId(id, 5), ClickRelay.DeliveryId(id, 6));
        Assert.NotEqual(id, ClickRelay.DeliveryId(id, 0));
    }
}
