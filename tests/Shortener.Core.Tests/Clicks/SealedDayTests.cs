using CsCheck;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clicks;

public class SealedDayTests
{
    private static readonly string[] Hosts = ["a.example", "b.example", "c.example"];

    /// <summary>Distinct clicks (origin, kind, referrer) of one link's day, as an origin's redirects recorded them.</summary>
    private static readonly Gen<(ulong Origin, ClickKind Kind, string? Referrer)[]> Clicks =
        Gen.Select(Gen.ULong[1, 4], Gen.Bool, Gen.Int[-1, 2])
            .Select((origin, bot, host) => (origin, bot ? ClickKind.Bot : ClickKind.Human, host < 0 ? null : Hosts[host]))
            .Array[0, 40];

    [Fact]
    public void Merging_values_is_a_join_and_a_day_counts_what_its_clicks_say()
    {
        Gen.Select(Clicks, Clicks, Clicks).Sample((x, y, z) =>
        {
            var (a, b, c) = (Counted(x), Counted(y), Counted(z));
            Assert.Equal(a.Merge(b), b.Merge(a));
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            Assert.Equal(a, a.Merge(a));
            Assert.Equal(x.Length, a.Total);
            Assert.Equal(x.Count(k => k.Kind == ClickKind.Bot), a.Bots.Value);
            Assert.Equal(x.Count(k => k.Kind == ClickKind.Human && k.Referrer == "a.example"), a.Referrers.Where(r => r.Host == "a.example").Sum(r => r.Clicks.Value));
        });
    }

    /// <summary>
    /// Replicas holding subsets of the same clicks, where for each origin one replica held all of
    /// that origin's clicks: however the versions merge, the day counts every click exactly once.
    /// </summary>
    [Fact]
    public void Versions_sealed_by_replicas_that_each_missed_other_origins_merge_to_the_exact_count()
    {
        Gen.Select(Clicks, Gen.Int[0, 2].Array[40], Gen.Int[0, 2].Array[4]).Sample((clicks, misses, complete) =>
        {
            // Replica r holds a click if it did not miss it, or if r is the one complete for the click's origin.
            var held = Enumerable.Range(0, 3)
                .Select(r => clicks.Where((c, i) => misses[i] != r || complete[(int)c.Origin - 1] == r).ToList())
                .ToList();
            var versions = held.Select((h, r) => SealedDayRecord.Seal("l", 7, null, (ulong)r + 1, Counted(h))).ToList();
            var merged = versions[2].Merge(versions[0]).Merge(versions[1]).Merge(versions[0]);
            Assert.Equal(3, merged.Versions.Siblings.Count);
            Assert.Equal(clicks.Length, merged.Value.Total);
            Assert.Equal(Counted(clicks), merged.Value);
        });
    }

    [Fact]
    public void A_replica_seals_beside_the_versions_it_holds_and_merging_keeps_one_sibling_per_sealing_replica()
    {
        var first = SealedDayRecord.Seal("l", 7, null, 1, [Click(1), Click(2)]);
        var second = SealedDayRecord.Seal("l", 7, null, 2, [Click(1)]);
        var both = first.Merge(second);
        Assert.Equal([new Dot(1, 1), new Dot(2, 1)], both.Versions.Siblings.Select(s => s.Dot));
        Assert.Equal(2, both.Value.Total);

        // Replica 3 received both before it sealed its own clicks: all three stay, as siblings.
        var third = SealedDayRecord.Seal("l", 7, both, 3, [Click(3)]);
        Assert.Equal(3, third.Versions.Siblings.Count);
        Assert.Equal(3, third.Value.Total);
        Assert.Equal(third.Hash, third.Merge(first).Merge(both).Hash);
        Assert.Equal(third.Hash, both.Merge(third).Hash);
        Assert.Throws<ArgumentException>(() => first.Merge(SealedDayRecord.Seal("l", 8, null, 1, [Click(1)])));
    }

    [Fact]
    public void A_replica_that_lost_its_database_and_sealed_again_under_the_same_dot_converges_with_the_others()
    {
        // Replica 1 sealed {origin 1 x2}; its database was lost, and its new life sealed {origin 1, origin 2}, again as dot (1,1).
        var before = SealedDayRecord.Seal("l", 7, null, 1, [Click(1), Click(1)]);
        var peer = SealedDayRecord.Seal("l", 7, before, 2, [Click(3)]);
        var after = SealedDayRecord.Seal("l", 7, null, 1, [Click(1), Click(2)]);
        Assert.Equal(before.Versions.Siblings[0].Dot, after.Versions.Siblings[0].Dot);

        var onPeer = peer.Merge(after);
        var onReplica = after.Merge(peer);
        Assert.Equal(onPeer.Hash, onReplica.Hash);
        Assert.Equal(onPeer.Hash, onPeer.Merge(after).Merge(peer).Hash);
        Assert.Equal(4, onPeer.Value.Total); // origin 1: 2, origin 2: 1, origin 3: 1
    }

    [Fact]
    public void Records_round_trip_through_their_binary_form_and_anything_else_is_a_format_error()
    {
        Gen.Select(Clicks, Clicks).Sample((x, y) =>
        {
            var record = SealedDayRecord.Seal("link", 20_000, SealedDayRecord.Seal("link", 20_000, null, 9, Counted(x)), 4, Counted(y));
            var decoded = SealedDayRecord.Decode(record.Encode());
            Assert.Equal(record.Encode(), decoded.Encode());
            Assert.Equal(record.Value, decoded.Value);
            Assert.Equal(record.Versions.Context, decoded.Versions.Context);
        });

        var good = SealedDayRecord.Seal("l", 7, null, 1, [Click(1, "a.example")]).Encode();
        Assert.Throws<FormatException>(() => SealedDayRecord.Decode(good[..^1]));
        Assert.Throws<FormatException>(() => SealedDayRecord.Decode([.. good, 0]));
        Assert.Throws<FormatException>(() => SealedDayRecord.Decode([2, .. good[1..]]));
        Assert.Throws<FormatException>(() => SealedDayRecord.Decode([]));

        // A sibling whose dot the context has not seen: no replica could hold that.
        var record = SealedDayRecord.Seal("l", 7, null, 1, [Click(1)]);
        var bytes = record.Encode();
        var siblingCounter = 1 + (4 + 1) + 4 + (4 + 8 + 8) + 4 + 8; // version, code, day, context {1:1}, sibling count, dot node
        Assert.Equal(1, bytes[siblingCounter]);
        bytes[siblingCounter] = 2;
        Assert.Contains("no replica could hold", Assert.Throws<FormatException>(() => SealedDayRecord.Decode(bytes)).Message);
    }

    [Fact]
    public void Counts_no_sum_could_hold_and_endless_referrers_are_refused_or_cut()
    {
        // A version counting 2^62 clicks of each of two origins (a peer's bug or damage): a format error, not an overflow.
        var huge = SealedDayRecord.Seal("l", 7, null, 1, [Click(1)]).Encode();
        var at = 1 + (4 + 1) + 4 + (4 + 16) + 4 + 16; // version, code, day, context, sibling count, dot
        var forged = huge[..at].Concat(BitConverter.GetBytes(2u)).Concat(BitConverter.GetBytes(1UL)).Concat(BitConverter.GetBytes(1L << 62))
            .Concat(BitConverter.GetBytes(2UL)).Concat(BitConverter.GetBytes(1L << 62)).Concat(BitConverter.GetBytes(0u)).Concat(BitConverter.GetBytes(0u)).ToArray();
        Assert.Contains("counter", Assert.Throws<FormatException>(() => SealedDayRecord.Decode(forged)).Message);

        // A replica's version keeps its 100 most clicked referring hosts; the clicks all count.
        var tally = new SealedDayTally();
        for (var host = 0; host < 150; host++)
        {
            for (var i = 0; i <= host % 3; i++)
            {
                tally.Add(1, ClickKind.Human, $"h{host:D3}.example");
            }
        }

        var day = tally.ToSealedDay();
        Assert.Equal(300, day.Total);
        Assert.Equal(SealedDayTally.MaxReferrers, day.Referrers.Count);
        Assert.All(day.Referrers, r => Assert.True(r.Clicks.Value >= 2));
        Assert.Equal(day, SealedDayRecord.Decode(SealedDayRecord.Seal("l", 7, null, 1, day).Encode()).Value);
    }

    [Fact]
    public void A_version_vector_set_refuses_parts_no_replica_could_hold()
    {
        var context = VersionVector.From([(1, 2)]);
        Assert.Throws<ArgumentException>(() => DottedVersionVectorSet<int>.FromParts(context, [(new Dot(1, 3), 0)]));
        Assert.Throws<ArgumentException>(() => DottedVersionVectorSet<int>.FromParts(context, [(new Dot(1, 2), 0), (new Dot(1, 2), 1)]));
        Assert.Throws<ArgumentException>(() => DottedVersionVectorSet<int>.FromParts(context, [(new Dot(2, 1), 0)]));
        var set = DottedVersionVectorSet<int>.FromParts(context, [(new Dot(1, 2), 5), (new Dot(1, 1), 4)]);
        Assert.Equal([4, 5], set.Values);
    }

    [Fact]
    public void Stats_count_open_clicks_and_sealed_days_together()
    {
        var open = new[] { ClickTestCluster.Click("l", day: 9, referrer: "a.example"), ClickTestCluster.Click("l", day: 9, kind: ClickKind.Bot) };
        var sealedDay = SealedDay.Count([Click(1, "a.example"), Click(2, "b.example"), Click(2, "b.example", ClickKind.Bot)]);
        var stats = ClickAggregation.Stats("l", open, [(7, sealedDay)], 0, 100, 10);
        Assert.Equal(5, stats.Total);
        Assert.Equal(2, stats.Bots);
        Assert.Equal([new ClickDay(7, 2, 1), new ClickDay(9, 1, 1)], stats.Days);
        Assert.Equal([new ReferrerCount("a.example", 2), new ReferrerCount("b.example", 1)], stats.TopReferrers);
        Assert.Equal(3, ClickAggregation.Stats("l", open, [(7, sealedDay)], 0, 8, 10).Total);
    }

    private static SealedDay Counted(IEnumerable<(ulong Origin, ClickKind Kind, string? Referrer)> clicks)
    {
        var tally = new SealedDayTally();
        foreach (var (origin, kind, referrer) in clicks)
        {
            tally.Add(origin, kind, referrer);
        }

        return tally.ToSealedDay();
    }

    private static ClickEvent Click(ulong origin, string? referrer = null, ClickKind kind = ClickKind.Human) =>
        ClickTestCluster.Click("l", day: 7, kind, referrer, origin);
}
