using Microsoft.Extensions.Time.Testing;
using Shortener.Cli.Scenarios;
using Shortener.Node.Clocks;
using Shortener.Node.Observability;

namespace Shortener.Cli.Tests;

public sealed class ScenarioEvidenceTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch.AddYears(56);

    [Fact]
    public void Journals_of_two_nodes_order_causally_though_the_later_nodes_wall_clock_is_behind()
    {
        // Node 1 becomes leader and tells node 2 (a heartbeat carries its clock); node 2, whose
        // wall clock is 300 ms behind, then records that it follows node 1. By wall clock node 2's
        // entry comes first; by the hybrid logical clock it comes after, as it happened.
        var (time1, time2) = (new FakeTimeProvider(Start), new FakeTimeProvider(Start.AddMilliseconds(-300)));
        var (clock1, clock2) = (new NodeClock(time1), new NodeClock(time2));
        var (journal1, journal2) = (new NodeJournal(time1, clock1, node: 1), new NodeJournal(time2, clock2, node: 2));

        journal1.Record(JournalKind.RoleChanged, "leader; leader 1", shard: 0, term: 2);
        var heartbeat = clock1.Stamp();
        time2.Advance(TimeSpan.FromMilliseconds(5));
        clock2.Observe(heartbeat, from: 1);
        journal2.Record(JournalKind.RoleChanged, "follower; leader 1", shard: 0, term: 2);

        var entries = journal1.After(0, 10).Concat(journal2.After(0, 10)).ToList();
        Assert.True(entries[1].AtMs < entries[0].AtMs, "by wall clock the follower's entry is first");

        var timeline = ScenarioEvidence.CausalTimeline(entries, Start.ToUnixTimeMilliseconds() - 1000);
        Assert.Equal([1UL, 2UL], timeline.Select(e => e.Node));
        Assert.Equal([1000L, 1000L], timeline.Select(e => e.AtMs));

        // Entries stamped before the start are left out.
        Assert.Empty(ScenarioEvidence.CausalTimeline(entries, Start.ToUnixTimeMilliseconds() + 1));
    }
}
