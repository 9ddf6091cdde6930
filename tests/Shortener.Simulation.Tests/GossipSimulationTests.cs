using Shortener.Core.Membership;
using Shortener.Simulation.Membership;
using Xunit.Abstractions;

namespace Shortener.Simulation.Tests;

public class GossipSimulationTests(ITestOutputHelper output)
{
    private static readonly GossipSettings Gossip = new();
    private static readonly long ProbeMs = Gossip.ProbeIntervalTicks * Gossip.TickMs;

    [Fact]
    public void A_join_reaches_every_member_in_rounds_that_grow_with_log_n()
    {
        var rounds = new Dictionary<int, double>();
        foreach (var n in new[] { 10, 100, 1000 })
        {
            var sim = new GossipSimulation(new GossipSimulationSettings { Members = n, Seed = 7 });
            sim.Start();
            sim.RunFor(5_000);
            var joiner = (ulong)n + 1;
            sim.Add(joiner, seed: 1);
            var took = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(joiner)?.Status == MemberStatus.Alive), 60_000);
            Assert.True(took is not null, $"{n} members: the join had not reached everyone after 60 s");
            rounds[n] = (double)took!.Value / ProbeMs;
            output.WriteLine($"{n} members: every member knew the joiner after {took} ms ({rounds[n]:F1} probe intervals), {sim.MessagesSent} messages");
            Assert.Equal(0, sim.FalseDeaths);
        }

        // Epidemic spread: a hundred times the members takes about log(n) times the rounds (3x from
        // 10 to 1,000), nowhere near linear.
        Assert.True(rounds[1000] <= 6 * Math.Max(1, rounds[10]), $"rounds grew from {rounds[10]:F1} to {rounds[1000]:F1}");
        Assert.True(rounds[1000] <= 3 * Math.Log2(1000), $"{rounds[1000]:F1} probe intervals for 1,000 members");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    public void A_crashed_member_is_declared_dead_everywhere_after_its_suspicion_runs_out(int n)
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = n, Seed = 11 });
        sim.Start();
        sim.RunFor(10_000);
        sim.Crash(3);
        var crashedAt = sim.Now;
        var took = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(3)?.Status == MemberStatus.Dead), 120_000);
        Assert.True(took is not null, "the crash was not detected everywhere within 120 s");

        // Not before the shortest suspicion could expire, not after the longest plus spreading it.
        var minSuspicionMs = Gossip.SuspicionMultiplier * Math.Max(1, Math.Log10(n)) * ProbeMs;
        var first = sim.DeathsSeen.Where(d => d.Key.Subject == 3).Min(d => d.Value) - crashedAt;
        output.WriteLine($"{n} members: first verdict {first} ms after the crash, everyone {took} ms; min suspicion {minSuspicionMs} ms");
        Assert.True(first >= minSuspicionMs, $"declared dead {first} ms after the crash, before the minimum suspicion {minSuspicionMs} ms");
        Assert.True(took <= (minSuspicionMs * Gossip.SuspicionMaxMultiplier) + (5 * ProbeMs), $"took {took} ms");
        Assert.Equal(0, sim.FalseDeaths);
    }

    [Theory]
    [InlineData(0.05, 0L)]
    [InlineData(0.20, 0L)]
    public void Message_loss_and_jitter_cause_suspicions_that_are_refuted_not_false_deaths(double dropRate, long allowedFalseDeaths)
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = 100, Seed = 5, DropRate = dropRate, MinDelayMs = 1, MaxDelayMs = 150 });
        sim.Start();
        sim.RunFor(120_000);
        output.WriteLine($"loss {dropRate:P0}: {sim.Suspicions} suspicions of live members, {sim.FalseDeaths} false deaths, {sim.MessagesSent} messages");
        Assert.True(sim.FalseDeaths <= allowedFalseDeaths, $"{sim.FalseDeaths} live members declared dead");
        Assert.All(sim.Running, id => Assert.True(sim.Node(id).UpCount == 100, $"member {id} sees {sim.Node(id).UpCount} up"));
        if (dropRate >= 0.2)
        {
            Assert.True(sim.Suspicions > 0, "20% loss caused no suspicion at all: the probes are not being lost");
        }
    }

    [Fact]
    public void After_a_partition_heals_both_sides_see_each_other_alive_again()
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = 9, Seed = 3 });
        sim.Start();
        sim.RunFor(5_000);
        ulong[] dc3 = [3, 6, 9];
        ulong[] rest = [1, 2, 4, 5, 7, 8];
        sim.Partition(dc3, rest);
        var split = sim.RunUntil(() => rest.All(id => dc3.All(d => sim.Node(id).Member(d)!.Status == MemberStatus.Dead)) && dc3.All(id => rest.All(r => sim.Node(id).Member(r)!.Status == MemberStatus.Dead)), 120_000);
        Assert.True(split is not null, "the two sides never declared each other dead");
        sim.Heal();
        var healed = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).UpCount == 9 && sim.Node(id).Members.All(m => m.Status == MemberStatus.Alive)), 120_000);
        output.WriteLine($"declared dead across the cut after {split} ms; all alive {healed} ms after the heal");
        Assert.True(healed is not null, "after the heal some member still saw another as down");
        Assert.True(healed <= (2 * Gossip.PushPullIntervalTicks * Gossip.TickMs) + 10_000, $"took {healed} ms");
    }

    [Fact]
    public void A_restarted_member_refutes_its_death_with_a_higher_incarnation()
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = 20, Seed = 9 });
        sim.Start();
        sim.RunFor(5_000);
        sim.Crash(4);
        Assert.NotNull(sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(4)!.Status == MemberStatus.Dead), 120_000));
        var deadAt = sim.Running.Max(id => sim.Node(id).Member(4)!.Incarnation);

        var node = sim.Restart(4);
        Assert.Equal(0UL, node.Self.Incarnation);
        var back = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(4)!.Status == MemberStatus.Alive), 60_000);
        output.WriteLine($"back alive everywhere after {back} ms at incarnation {node.Self.Incarnation}");
        Assert.NotNull(back);
        Assert.True(node.Self.Incarnation > deadAt);
    }

    [Fact]
    public void A_member_that_leaves_is_seen_as_left_not_dead()
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = 10, Seed = 2 });
        sim.Start();
        sim.RunFor(5_000);
        sim.Node(6).Leave();
        sim.RunFor(3 * ProbeMs);
        sim.Crash(6);
        Assert.NotNull(sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(6)!.Status == MemberStatus.Left), 30_000));
        sim.RunFor(60_000);
        Assert.All(sim.Running, id => Assert.Equal(MemberStatus.Left, sim.Node(id).Member(6)!.Status));
        Assert.Equal(0, sim.FalseDeaths);
    }

    [Fact]
    public void Duplicated_and_reordered_messages_change_nothing_but_the_traffic()
    {
        var sim = new GossipSimulation(new GossipSimulationSettings { Members = 50, Seed = 13, DuplicateRate = 0.2, MinDelayMs = 1, MaxDelayMs = 300 });
        sim.Start();
        sim.RunFor(10_000);
        sim.Add(51, seed: 2);
        Assert.NotNull(sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(51)?.Status == MemberStatus.Alive), 30_000));
        sim.RunFor(60_000);
        Assert.Equal(0, sim.FalseDeaths);
        Assert.All(sim.Running, id => Assert.Equal(51, sim.Node(id).UpCount));
    }

    /// <summary>The fixed seed set CI runs. By hand: shortener sim gossip --seeds 1000 --members 100 --loss 0.1.</summary>
    [Theory]
    [InlineData(50, 0.10, 0.05, 100L, 10)]
    [InlineData(10, 0.20, 0.20, 300L, 20)]
    public void Every_seed_joins_detects_and_rejoins_without_false_deaths(int members, double loss, double duplicate, long maxDelayMs, int seeds)
    {
        var failures = new List<string>();
        for (var seed = 1UL; seed <= (ulong)seeds; seed++)
        {
            var report = GossipScenario.Run(new GossipSimulationSettings { Seed = seed, Members = members, DropRate = loss, DuplicateRate = duplicate, MaxDelayMs = maxDelayMs });
            if (!report.Passed)
            {
                failures.Add($"{report.ReplayCommand}: {string.Join("; ", report.Violations)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void A_seed_replays_exactly()
    {
        static (long, long, string) Run(ulong seed)
        {
            var sim = new GossipSimulation(new GossipSimulationSettings { Members = 30, Seed = seed, DropRate = 0.1, MaxDelayMs = 100 });
            sim.Start();
            sim.RunFor(10_000);
            sim.Crash(5);
            sim.RunFor(30_000);
            return (sim.MessagesSent, sim.Suspicions, string.Join(",", sim.DeathsSeen.OrderBy(d => d.Key).Select(d => $"{d.Key}:{d.Value}")));
        }

        Assert.Equal(Run(21), Run(21));
        Assert.NotEqual(Run(21), Run(22));
    }
}
