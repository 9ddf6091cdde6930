using Shortener.Core.Clicks;
using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Clicks;

public class ClickNodeTests
{
    private static List<ClickEvent> Clicks(string code, int count) => Enumerable.Range(0, count).Select(_ => ClickTestCluster.Click(code)).ToList();

    [Fact]
    public void A_quorum_write_reaches_every_owner_and_no_other_node()
    {
        var cluster = new ClickTestCluster(5);
        var clicks = Clicks("launch", 7);
        var done = cluster.Write(4, clicks);

        Assert.True(done.Ok, done.Error);
        var owners = cluster.Owners("launch");
        Assert.Equal(3, owners.Count);
        cluster.Run(100); // the third owner's copy lands after the quorum answered
        foreach (var (id, store) in cluster.Stores)
        {
            Assert.Equal(owners.Contains(id) ? 7 : 0, store.Count);
        }

        Assert.Equal(0, cluster.Hints.Values.Sum(h => h.Count));
    }

    [Fact]
    public void A_down_owner_gets_a_stand_in_that_keeps_a_hint_and_hands_it_over_when_the_owner_is_back()
    {
        var cluster = new ClickTestCluster(5);
        var owners = cluster.Owners("promo");
        var down = owners[1];
        cluster.Down.Add(down);
        cluster.Isolate(down);
        var coordinator = cluster.Nodes.Keys.First(id => !owners.Contains(id));

        var done = cluster.Write(coordinator, Clicks("promo", 5));
        Assert.True(done.Ok, done.Error);
        Assert.Equal(0, cluster.Stores[down].Count);
        var standIn = cluster.Hints.Single(h => h.Value.Count > 0);
        Assert.NotEqual(down, standIn.Key);
        Assert.DoesNotContain(standIn.Key, owners);
        Assert.Equal([down], standIn.Value.Owners);

        cluster.Down.Remove(down);
        cluster.Cut.Clear();
        cluster.Run(2_000);
        Assert.Equal(5, cluster.Stores[down].Count);
        Assert.Equal(0, cluster.Hints.Values.Sum(h => h.Count));
        Assert.Equal(5, cluster.Nodes[standIn.Key].Counters.HintsReplayed);
    }

    [Fact]
    public void Without_a_quorum_a_write_fails_after_its_timeout_and_the_coordinator_keeps_hints_for_the_owners_it_missed()
    {
        var cluster = new ClickTestCluster(3);
        // Gossip has not noticed yet: both peers look up, but nothing reaches them.
        cluster.Isolate(3);
        var done = cluster.Write(3, Clicks("cut", 4));

        Assert.False(done.Ok);
        Assert.Contains("1 of the 2 replicas", done.Error);
        Assert.Equal(4, cluster.Stores[3].Count);
        Assert.Equal([1UL, 2UL], cluster.Hints[3].Owners);

        cluster.Cut.Clear();
        cluster.Run(2_000);
        Assert.All(cluster.Stores.Values, s => Assert.Equal(4, s.Count));
        Assert.Equal(0, cluster.Hints[3].Count);
    }

    [Fact]
    public void One_succeeds_alone_and_local_quorum_needs_only_this_data_centre()
    {
        var cluster = new ClickTestCluster(6); // two nodes per data centre
        var code = Enumerable.Range(0, 100).Select(i => $"local{i}").First(c => cluster.Owners(c).Contains(1UL));
        cluster.Isolate(1);
        Assert.True(cluster.Write(1, Clicks(code, 2), ConsistencyLevel.One).Ok);
        Assert.False(cluster.Write(1, Clicks(code, 2), ConsistencyLevel.Quorum).Ok);

        // LOCAL_QUORUM: a majority of the owners in dc1. With N = 3 over three data centres a key
        // has one owner in dc1, so only that owner's answer counts.
        cluster.Cut.Clear();
        foreach (var other in cluster.Nodes.Keys.Where(n => cluster.Nodes[n].Dc != "dc1"))
        {
            cluster.Isolate(other);
        }

        Assert.True(cluster.Write(1, Clicks(code, 3), ConsistencyLevel.LocalQuorum).Ok);
        Assert.False(cluster.Write(1, Clicks(code, 3), ConsistencyLevel.Quorum).Ok);
    }

    [Fact]
    public void Reads_that_agree_answer_from_one_fingerprint_and_reads_that_differ_merge_and_repair()
    {
        var cluster = new ClickTestCluster(3);
        var clicks = Clicks("story", 10);
        clicks.Add(ClickTestCluster.Click("story", kind: ClickKind.Bot));
        clicks.Add(ClickTestCluster.Click("story", referrer: "news.example"));
        Assert.True(cluster.Write(1, clicks, ConsistencyLevel.All).Ok);

        var agreed = cluster.Read(2, "story");
        Assert.True(agreed.Ok);
        Assert.False(agreed.Repaired);
        Assert.Equal((12L, 11L, 1L), (agreed.Stats!.Total, agreed.Stats.Human, agreed.Stats.Bots));
        Assert.Equal("news.example", Assert.Single(agreed.Stats.TopReferrers).Referrer);

        // Replicas drift apart (what a lost write and a lost hint leave): each misses something.
        cluster.Stores[1].Add(Clicks("story", 3));
        cluster.Stores[3].Add(Clicks("story", 2));
        var merged = cluster.Read(2, "story", ConsistencyLevel.All);
        Assert.True(merged.Ok);
        Assert.True(merged.Repaired);
        Assert.Equal(17, merged.Stats!.Total);
        cluster.Run(100);
        Assert.All(cluster.Stores.Values, s => Assert.Equal(17, s.Count));
        Assert.Equal(3, cluster.Nodes.Values.Sum(n => n.Counters.ReadRepairs)); // node 2 lacked 5, node 1 lacked 2, node 3 lacked 3
        Assert.False(cluster.Read(3, "story", ConsistencyLevel.All).Repaired);
    }

    [Fact]
    public void A_read_fails_when_too_few_replicas_answer()
    {
        var cluster = new ClickTestCluster(3);
        cluster.Isolate(2);
        var read = cluster.Read(2, "x", ConsistencyLevel.Quorum);
        Assert.False(read.Ok);
        Assert.Contains("of the 2 replicas", read.Error);
        Assert.True(cluster.Read(2, "x", ConsistencyLevel.One).Ok);
    }

    [Fact]
    public void Anti_entropy_repairs_every_replica_and_then_finds_them_in_sync()
    {
        var cluster = new ClickTestCluster(5, settings: new ClickSettings { AntiEntropyIntervalMs = 20 });
        var all = Enumerable.Range(0, 40).SelectMany(i => Clicks($"link{i}", 5)).ToList();
        foreach (var group in all.GroupBy(c => c.Code))
        {
            // Only the first owner got them (a write at ONE whose other copies were lost).
            cluster.Stores[cluster.Owners(group.Key)[0]].Add(group.ToList());
        }

        cluster.Run(20_000);
        foreach (var group in all.GroupBy(c => c.Code))
        {
            foreach (var owner in cluster.Owners(group.Key))
            {
                Assert.Equal(5, cluster.Stores[owner].Events(group.Key, 0, int.MaxValue).Count);
            }
        }

        var pushed = cluster.Nodes.Values.Sum(n => n.Counters.RepairClicksPushed + n.Counters.RepairClicksPulled);
        Assert.Equal(all.Count * 2, pushed); // each click to its two other owners, once
        var inSync = cluster.Nodes.Values.Sum(n => n.Counters.AntiEntropyInSync);
        cluster.Run(5_000);
        Assert.True(cluster.Nodes.Values.Sum(n => n.Counters.AntiEntropyInSync) > inSync);
        Assert.Equal(all.Count * 2, cluster.Nodes.Values.Sum(n => n.Counters.RepairClicksPushed + n.Counters.RepairClicksPulled));
    }

    [Fact]
    public void Anti_entropy_moves_a_small_multiple_of_d_log_n_hashes_for_d_missing_clicks()
    {
        // 3 nodes, so every node owns every link: 20,000 clicks of 4 links over 2 days on all of
        // them (2,500 a day each, so moving whole days would cost thousands of keys), except one
        // click of each of the 8 days that node 3 lacks.
        var cluster = new ClickTestCluster(3, settings: new ClickSettings { AntiEntropyIntervalMs = 50 });
        var random = new Random(3);
        var all = Enumerable.Range(0, 20_000).Select(_ => ClickTestCluster.Click($"link{random.Next(4)}", 20_000 + random.Next(2))).ToList();
        var missing = all.DistinctBy(c => (c.Code, c.Day)).Take(8).ToHashSet();
        cluster.Stores[1].Add(all);
        cluster.Stores[2].Add(all);
        cluster.Stores[3].Add(all.Where(c => !missing.Contains(c)).ToList());

        cluster.Run(30_000);
        foreach (var code in missing.Select(c => c.Code))
        {
            Assert.Equal(cluster.Stores[1].Events(code, 0, int.MaxValue).Count, cluster.Stores[3].Events(code, 0, int.MaxValue).Count);
        }

        Assert.Equal(8, cluster.Nodes.Values.Sum(n => n.Counters.RepairClicksPushed + n.Counters.RepairClicksPulled));
        var clickBytes = missing.Sum(c => (long)c.Encode().Length);
        // Exchanges that found their range in sync cost one root each way (12 bytes): the steady
        // state, counted apart; the rest is what finding and moving the 8 clicks took.
        var inSync = 12 * cluster.Nodes.Values.Sum(n => n.Counters.AntiEntropyInSync);
        var hashes = (cluster.Nodes.Values.Sum(n => n.Counters.RepairBytes) - clickBytes - inSync) / 16.0;
        var bound = 8 * Math.Log2(all.Count);
        Assert.True(hashes <= 6 * bound, $"{hashes:F0} keys' worth of hashes moved for 8 differing clicks (d·log2 n = {bound:F0})");
    }

    [Fact]
    public void The_summary_counts_each_click_once_over_the_whole_cluster()
    {
        var cluster = new ClickTestCluster(5);
        for (var i = 0; i < 30; i++)
        {
            Assert.True(cluster.Write((ulong)((i % 5) + 1), Clicks($"s{i}", i + 1)).Ok);
        }

        cluster.Run(100);
        var done = cluster.Await(3, cluster.Nodes[3].Summary(0, int.MaxValue));
        var summary = done.Summary!;
        Assert.Equal(Enumerable.Range(1, 30).Sum(), summary.Total);
        Assert.Equal((5, 5), (summary.Answered, summary.Asked));
        Assert.Equal(summary.Ranges, summary.RangesCovered);
        Assert.Equal(["s29", "s28", "s27"], summary.TopLinks.Take(3).Select(l => l.Code));

        // A node down: its ranges still come from the other replicas.
        cluster.Down.Add(5);
        cluster.Isolate(5);
        Assert.Equal(summary.Total, cluster.Await(1, cluster.Nodes[1].Summary(0, int.MaxValue)).Summary!.Total);
    }

    [Fact]
    public void Duplicated_and_late_answers_change_nothing()
    {
        var cluster = new ClickTestCluster(3);
        var op = cluster.Nodes[1].Write(Clicks("dup", 3), ConsistencyLevel.All);
        var messages = cluster.Nodes[1].TakeMessages();
        foreach (var m in messages.Concat(messages))
        {
            cluster.Nodes[m.To].Step(m);
        }

        var acks = cluster.Nodes.Values.SelectMany(n => n.TakeMessages()).ToList();
        Assert.Equal(4, acks.Count);
        foreach (var ack in acks.Concat(acks))
        {
            cluster.Nodes[1].Step(ack);
        }

        var done = Assert.Single(cluster.Nodes[1].TakeCompletions());
        Assert.Equal((op, true), (done.Op, done.Ok));
        Assert.All(cluster.Stores.Values, s => Assert.Equal(3, s.Count));
        Assert.Equal(0, cluster.Nodes[1].PendingOperations);
    }

    [Fact]
    public void A_replica_whose_disk_fails_answers_no_and_the_write_still_meets_its_level_elsewhere()
    {
        var cluster = new ClickTestCluster(3);
        cluster.Stores[2].FailWrites = true;
        var done = cluster.Write(1, Clicks("disk", 2), ConsistencyLevel.Quorum);
        Assert.True(done.Ok, done.Error);
        Assert.False(cluster.Write(1, Clicks("disk", 2), ConsistencyLevel.All).Ok);
        Assert.Equal(2, cluster.Nodes[2].Counters.StoreFailures);
        Assert.Equal([2UL], cluster.Hints[1].Owners); // kept for the replica that refused

        cluster.Stores[2].FailWrites = false;
        cluster.Run(2_000);
        Assert.Equal(4, cluster.Stores[2].Count);
    }

    [Fact]
    public void Hints_for_a_node_that_left_the_ring_go_to_the_keys_current_replicas()
    {
        var cluster = new ClickTestCluster(5);
        var owners = cluster.Owners("moved");
        var gone = owners[0];
        cluster.Down.Add(gone);
        cluster.Isolate(gone);
        var coordinator = cluster.Nodes.Keys.First(id => !owners.Contains(id));
        Assert.True(cluster.Write(coordinator, Clicks("moved", 6)).Ok);
        var holder = cluster.Hints.Single(h => h.Value.Count > 0).Key;

        // The operator removes the dead node: the ring no longer has it.
        var ring = new HashRing(cluster.Nodes[1].Ring.Nodes.Where(n => n.Id != gone));
        foreach (var node in cluster.Nodes.Values)
        {
            node.SetRing(ring);
        }

        cluster.Run(3_000);
        Assert.Equal(0, cluster.Hints[holder].Count);
        Assert.Equal(6, cluster.Nodes[holder].Counters.HintsRerouted);
        foreach (var owner in ring.Replicas(HashRing.KeyHash("moved"), 3))
        {
            Assert.Equal(6, cluster.Stores[owner].Count);
        }
    }

    [Fact]
    public void Local_quorum_for_a_key_with_no_owner_in_this_data_centre_takes_one_copy_anywhere()
    {
        var cluster = new ClickTestCluster(4, dcs: 4); // N = 3 over four data centres: some keys have no owner in dc1
        var code = Enumerable.Range(0, 200).Select(i => $"far{i}").First(c => !cluster.Owners(c).Contains(1UL));
        var done = cluster.Write(1, Clicks(code, 2), ConsistencyLevel.LocalQuorum);
        Assert.True(done.Ok, done.Error);
        Assert.True(cluster.Read(1, code, ConsistencyLevel.LocalQuorum).Ok);
    }

    [Fact]
    public void A_read_of_a_link_with_many_clicks_does_not_merge_them_and_answers_from_the_fullest_replica()
    {
        var cluster = new ClickTestCluster(3, settings: new ClickSettings { AntiEntropyIntervalMs = 1_000_000_000, ReadRepairMaxClicks = 50 });
        Assert.True(cluster.Write(1, Clicks("big", 60), ConsistencyLevel.All).Ok);
        cluster.Stores[2].Add(Clicks("big", 5));
        var read = cluster.Read(3, "big", ConsistencyLevel.All);
        Assert.True(read.Ok);
        Assert.False(read.Repaired);
        Assert.Equal(65, read.Stats!.Total);
        Assert.Equal(60, cluster.Stores[1].Count); // no repair: anti-entropy's job
    }

    [Fact]
    public void A_merkle_question_for_a_deep_tree_a_range_not_held_or_too_many_days_is_refused()
    {
        var cluster = new ClickTestCluster(3);
        var range = cluster.Nodes[2].Ring.Ranges(3)[0];
        foreach (var (from, to, depth) in new[] { (range.From, range.To, 24), (range.From + 1, range.To, 4), (0UL, 0UL, 4) })
        {
            cluster.Nodes[2].Step(new ClickMessage(ClickMessageType.MerkleLevel, 1, 2, 99) { RangeFrom = from, RangeTo = to, Depth = depth, Level = 0, Indexes = [0] });
            var reply = Assert.Single(cluster.Nodes[2].TakeMessages());
            Assert.False(reply.Ok);
        }

        // A second tree, or a fetch, over more days than one exchange compares: refused too.
        var days = Enumerable.Range(0, 257).Select(i => (ulong)i).ToList();
        cluster.Nodes[2].Step(new ClickMessage(ClickMessageType.MerkleLevel, 1, 2, 98) { RangeFrom = range.From, RangeTo = range.To, Depth = 4, Level = 0, Indexes = [0], Days = days });
        Assert.False(Assert.Single(cluster.Nodes[2].TakeMessages()).Ok);
        cluster.Nodes[2].Step(new ClickMessage(ClickMessageType.Fetch, 1, 2, 97) { RangeFrom = range.From, RangeTo = range.To, Days = days, Hashes = [1] });
        Assert.False(Assert.Single(cluster.Nodes[2].TakeMessages()).Ok);

        cluster.Nodes[2].Step(new ClickMessage(ClickMessageType.MerkleLevel, 1, 2, 99) { RangeFrom = range.From, RangeTo = range.To, Depth = 4, Level = 0, Indexes = [0] });
        Assert.True(Assert.Single(cluster.Nodes[2].TakeMessages()).Ok);
        cluster.Nodes[2].Step(new ClickMessage(ClickMessageType.Fetch, 1, 2, 96) { RangeFrom = range.From, RangeTo = range.To, Days = days.Take(256).ToList(), Hashes = [1] });
        Assert.True(Assert.Single(cluster.Nodes[2].TakeMessages()).Ok);
    }
}
