using Shortener.Core.Clicks;
using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Clicks;

/// <summary>Sealing days past the horizon, and how sealed days travel between replicas (ClickNode over in-memory stores).</summary>
public class ClickSealingTests
{
    private const int Day = 20_000;
    private const long DayMs = 86_400_000;

    private static readonly ClickSettings Settings = new() { AntiEntropyIntervalMs = 1_000_000_000, SealIntervalMs = 500 };

    /// <summary>Clicks of one link on <see cref="Day"/>: <paramref name="perOrigin"/> from each of origins 1 to 3.</summary>
    private static List<ClickEvent> Clicks(string code, int perOrigin, int day = Day) =>
        Enumerable.Range(1, 3).SelectMany(origin => Enumerable.Range(0, perOrigin).Select(i =>
            ClickTestCluster.Click(code, day, i % 4 == 0 ? ClickKind.Bot : ClickKind.Human, i % 3 == 0 ? $"r{origin}.example" : null, (ulong)origin))).ToList();

    /// <summary>
    /// Three nodes whose own sealing passes are far apart: the first (nothing due yet) runs at once,
    /// then the wall clock moves past <see cref="Day"/>'s horizon, so what the stores hold stays as
    /// the test puts it and records of the day are merged when they arrive.
    /// </summary>
    private static ClickTestCluster PastTheHorizonWithoutSealing()
    {
        var cluster = new ClickTestCluster(3, settings: Settings with { SealIntervalMs = 1_000_000_000 });
        cluster.Run(10);
        cluster.WallMs = (Day + 8) * DayMs;
        cluster.Run(10);
        return cluster;
    }

    /// <summary>Moves the nodes' wall clock to the start of day <paramref name="day"/> and runs a second.</summary>
    private static void PassTo(ClickTestCluster cluster, int day)
    {
        cluster.WallMs = day * DayMs;
        cluster.Run(1_000);
    }

    [Fact]
    public void Replicas_that_each_missed_another_origins_clicks_seal_alone_and_anti_entropy_merges_their_versions_to_the_exact_count()
    {
        var cluster = new ClickTestCluster(3, settings: Settings with { AntiEntropyIntervalMs = 50 });
        var clicks = Clicks("old", 20);
        var recent = Clicks("old", 2, day: Day + 6);
        // Replica r never got origin r's clicks (cut off from it, say), and nothing repaired it in time.
        foreach (var (id, store) in cluster.Stores)
        {
            store.Add(clicks.Where(c => c.Origin != id).Concat(recent).ToList());
        }

        // Day 20,008: day 20,000 is past the 7-day horizon, day 20,006 is not. Anti-entropy is
        // slow here (every 50 ms, one range and peer at a time), so each replica seals first.
        PassTo(cluster, Day + 8);
        foreach (var (id, node) in cluster.Nodes)
        {
            Assert.Equal(40, node.Counters.ClicksSealed);
        }

        cluster.Run(10_000);
        var hashes = cluster.Stores.Values.Select(s => Assert.Single(s.AllSealed).Hash).Distinct();
        Assert.Single(hashes);
        var record = cluster.Stores[1].AllSealed.Single();
        Assert.Equal(3, record.Versions.Siblings.Count);
        Assert.Equal(60, record.Value.Total);
        Assert.All(cluster.Stores.Values, s => Assert.Equal(6, s.Count)); // only the recent day's clicks are held whole

        var read = cluster.Read(2, "old", ConsistencyLevel.All);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(66, read.Stats!.Total);
        Assert.Equal(clicks.Concat(recent).Count(c => c.Kind == ClickKind.Bot), read.Stats.Bots);
        Assert.Equal([Day, Day + 6], read.Stats.Days.Select(d => d.Day));
        Assert.Equal(ClickAggregation.Stats("old", clicks.Concat(recent), 0, int.MaxValue, 10).TopReferrers, read.Stats.TopReferrers);
        Assert.All(cluster.Nodes.Values, n => Assert.True(n.Counters.SealedMerged >= 1));
    }

    [Fact]
    public void A_click_that_reaches_a_replica_after_it_sealed_the_day_is_not_counted_there()
    {
        var cluster = new ClickTestCluster(3, settings: Settings);
        Assert.True(cluster.Write(1, Clicks("l", 5)).Ok);
        cluster.Run(100);
        PassTo(cluster, Day + 8);
        Assert.All(cluster.Stores.Values, s => Assert.Equal(0, s.Count));
        Assert.All(cluster.Stores.Values, s => Assert.Equal(15, s.AllSealed.Single().Value.Total));

        // A click of the sealed day (a copy of a counted one or not: the replica cannot tell), and one of today.
        var late = new List<ClickEvent> { ClickTestCluster.Click("l", Day, origin: 1), ClickTestCluster.Click("l", Day + 8, origin: 2) };
        var done = cluster.Write(2, late, ConsistencyLevel.All);
        Assert.True(done.Ok, done.Error);
        cluster.Run(100);
        Assert.All(cluster.Nodes.Values, n => Assert.Equal(1, n.Counters.LateClicks));
        var read = cluster.Read(3, "l", ConsistencyLevel.All);
        Assert.Equal(16, read.Stats!.Total);
    }

    [Fact]
    public void A_read_that_finds_a_day_sealed_on_one_replica_and_open_on_others_counts_each_origin_once_and_repairs_them()
    {
        var cluster = PastTheHorizonWithoutSealing();
        var clicks = Clicks("mix", 10);
        cluster.Stores[1].Add(clicks.Where(c => c.Origin != 3).ToList());
        cluster.Stores[1].Seal(Day + 1, replica: 1, maxClicks: 1_000);
        cluster.Stores[2].Add(clicks);
        cluster.Stores[3].Add(clicks.Where(c => c.Origin == 3).ToList());

        var read = cluster.Read(3, "mix", ConsistencyLevel.All);
        Assert.True(read.Ok, read.Error);
        Assert.True(read.Repaired);
        Assert.Equal(30, read.Stats!.Total);
        cluster.Run(100);

        // The replicas that held the day open sealed it when the record arrived, as versions of their own.
        Assert.Equal(0, cluster.Stores[2].Count);
        Assert.Equal(0, cluster.Stores[3].Count);
        Assert.Equal([1UL, 2UL], cluster.Stores[2].AllSealed.Single().Versions.Siblings.Select(s => s.Dot.Node));

        // A second read brings every version everywhere.
        Assert.Equal(30, cluster.Read(1, "mix", ConsistencyLevel.All).Stats!.Total);
        cluster.Run(100);
        Assert.Single(cluster.Stores.Values.Select(s => s.AllSealed.Single().Hash).Distinct());
        Assert.Equal(30, cluster.Read(2, "mix", ConsistencyLevel.All).Stats!.Total);
        Assert.False(cluster.Completions.Last().Repaired);
    }

    [Fact]
    public void A_read_gives_replicas_that_hold_a_day_open_every_click_it_saw_of_it_so_later_reads_do_not_count_fewer()
    {
        var cluster = PastTheHorizonWithoutSealing();
        // One origin's three clicks: replica 1 sealed c1, replica 2 holds c1 and c2 open, replica 3 holds c3 open.
        var (c1, c2, c3) = (ClickTestCluster.Click("x", Day, origin: 7), ClickTestCluster.Click("x", Day, origin: 7), ClickTestCluster.Click("x", Day, origin: 7));
        cluster.Stores[1].Add([c1]);
        cluster.Stores[1].Seal(Day + 1, replica: 1, maxClicks: 1_000);
        cluster.Stores[2].Add([c1, c2]);
        cluster.Stores[3].Add([c3]);

        Assert.Equal(3, cluster.Read(1, "x", ConsistencyLevel.All).Stats!.Total);
        cluster.Run(100);
        Assert.Equal(3, cluster.Stores[2].AllSealed.Single().Value.Total);
        Assert.Equal(3, cluster.Stores[3].AllSealed.Single().Value.Total);
        Assert.Equal(3, cluster.Read(1, "x", ConsistencyLevel.All).Stats!.Total);
        cluster.Run(100);
        Assert.Equal(3, cluster.Read(2, "x", ConsistencyLevel.All).Stats!.Total);
        Assert.Single(cluster.Stores.Values.Select(s => s.AllSealed.Single().Hash).Distinct());
    }

    [Fact]
    public void A_version_of_a_day_not_yet_past_this_nodes_horizon_waits_and_the_day_keeps_taking_clicks_until_then()
    {
        var cluster = new ClickTestCluster(3, settings: Settings with { AntiEntropyIntervalMs = 50 });
        Assert.True(cluster.Write(1, Clicks("early", 2), ConsistencyLevel.All).Ok);

        // Node 1's clock ran ahead: it sealed the day, on day 20,001, six days early.
        cluster.Stores[1].Seal(Day + 1, replica: 1, maxClicks: 1_000);
        cluster.Run(5_000);
        Assert.True(cluster.Nodes[2].Counters.SealedDeferred > 0);
        Assert.Equal(6, cluster.Stores[2].Count);
        Assert.Empty(cluster.Stores[2].AllSealed);

        // Within the others' grace period, a click of the day still counts there (node 1 turns it away).
        var late = ClickTestCluster.Click("early", Day, origin: 2);
        Assert.True(cluster.Write(2, [late], ConsistencyLevel.Quorum).Ok);
        cluster.Run(100);
        Assert.Equal(7, cluster.Stores[3].Count);
        Assert.Equal(1, cluster.Nodes[1].Counters.LateClicks);

        // Past everyone's horizon: every replica sealed, and the versions merge to every click.
        PassTo(cluster, Day + 8);
        cluster.Run(10_000);
        Assert.All(cluster.Stores.Values, s => Assert.Equal(7, s.AllSealed.Single().Value.Total));
        Assert.Single(cluster.Stores.Values.Select(s => s.AllSealed.Single().Hash).Distinct());
    }

    [Fact]
    public void The_summary_counts_sealed_and_open_days_alike()
    {
        var cluster = new ClickTestCluster(3, settings: Settings);
        Assert.True(cluster.Write(1, Clicks("a", 4).Concat(Clicks("b", 2, day: Day + 7)).ToList(), ConsistencyLevel.All).Ok);
        PassTo(cluster, Day + 8);
        Assert.Single(cluster.Stores[1].AllSealed);
        var summary = cluster.Await(2, cluster.Nodes[2].Summary(0, int.MaxValue)).Summary!;
        Assert.Equal(18, summary.Total);
        Assert.Equal(["a", "b"], summary.TopLinks.Select(l => l.Code));
    }

    [Fact]
    public void A_disk_that_fails_while_sealing_is_counted_and_sealing_goes_on_once_it_works()
    {
        var cluster = new ClickTestCluster(3, settings: Settings);
        Assert.True(cluster.Write(1, Clicks("l", 3), ConsistencyLevel.All).Ok);
        cluster.Stores[2].FailWrites = true;
        PassTo(cluster, Day + 8);
        Assert.True(cluster.Nodes[2].Counters.StoreFailures > 0);
        Assert.Equal(9, cluster.Stores[2].Count);

        cluster.Stores[2].FailWrites = false;
        cluster.Run(1_000);
        Assert.Equal(0, cluster.Stores[2].Count);
        Assert.Equal(9, cluster.Nodes[2].Counters.ClicksSealed);
    }
}
