using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Merkle;
using Shortener.Core.Quorum;
using Shortener.Storage.Clicks;

namespace Shortener.Storage.Tests.Clicks;

public sealed class ClickStoreTests : IDisposable
{
    private const long Day = 86_400_000;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ClickEvent Click(string code, int day, ClickKind kind = ClickKind.Human, string? referrer = null, Guid? id = null, ulong origin = 0) =>
        new(id ?? Guid.NewGuid(), code, (day * Day) + 1_000, new HlcTimestamp((day * Day) + 1_000, 0), kind, referrer, "DE") { Origin = origin };

    [Fact]
    public void A_click_delivered_twice_counts_once_and_survives_a_reopen()
    {
        var first = Click("abc", 20_000);
        using (var store = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db")))
        {
            Assert.Equal(2, store.Add([first, Click("abc", 20_000), first]).Added);
            Assert.Equal(0, store.Add([first]).Added);
        }

        using var reopened = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        Assert.Equal(2, reopened.Count);
        Assert.Equal(2, reopened.Stats("abc", 0, int.MaxValue).Total);
    }

    [Fact]
    public void Stats_split_humans_and_bots_per_day_and_rank_referrers()
    {
        using var store = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        store.Add([
            Click("abc", 100, referrer: "news.example"),
            Click("abc", 100, referrer: "news.example"),
            Click("abc", 100, ClickKind.Bot),
            Click("abc", 101, referrer: "blog.example"),
            Click("abc", 105),
            Click("other", 100, referrer: "news.example"),
        ]);

        var stats = store.Stats("abc", 100, 101);
        Assert.Equal((4L, 3L, 1L), (stats.Total, stats.Human, stats.Bots));
        Assert.Equal([new ClickDay(100, 2, 1), new ClickDay(101, 1, 0)], stats.Days);
        Assert.Equal([new ReferrerCount("news.example", 2), new ReferrerCount("blog.example", 1)], stats.TopReferrers);
        Assert.Equal(0, store.Stats("nothing", 0, 1000).Total);
    }

    [Fact]
    public void A_merkle_exchange_between_two_replicas_finds_exactly_the_missing_clicks()
    {
        using var a = ClickStore.Open(Path.Combine(_dir.Path, "a.db"));
        using var b = ClickStore.Open(Path.Combine(_dir.Path, "b.db"));
        var clicks = Enumerable.Range(0, 2_000).Select(i => Click($"link{i % 50}", 200 + (i % 3))).ToList();
        a.Add(clicks);
        b.Add(clicks.Where((_, i) => i % 400 != 7).ToList()); // b missed 5 of them

        // The whole ring as one range, split at an arbitrary token to exercise the wrap-around.
        // First the daily counters (150 links' days), then the clicks of the days that differ.
        const ulong split = 0x1234_5678_9ABC_DEF0;
        var days = Differing(a.Digests(split, split), b.Digests(split, split));
        Assert.Equal(3, days.Push.Union(days.Pull).Count()); // the 5 missing clicks are all link7's, on 3 days
        var differing = days.Push.Union(days.Pull).ToList();
        var (push, pull) = Differing(a.EventDigests(split, split, differing), b.EventDigests(split, split, differing));
        Assert.Empty(pull);
        Assert.Equal(5, push.Count);
        Assert.True(a.EventDigests(split, split, differing).Count < 200, "only the clicks of the differing days are compared");

        Assert.Equal(5, b.Add(a.Get(split, split, differing, push)).Added);
        Assert.Equal(a.Digests(split, split).Order(), b.Digests(split, split).Order());
        var (statsA, statsB) = (a.Stats("link7", 0, 1000), b.Stats("link7", 0, 1000));
        Assert.Equal((statsA.Total, statsA.Human, statsA.Bots), (statsB.Total, statsB.Human, statsB.Bots));
        Assert.Equal(statsA.Days, statsB.Days);
    }

    [Fact]
    public void Two_versions_of_one_click_converge_to_the_same_winner_in_any_order()
    {
        var id = Guid.NewGuid();
        var one = Click("abc", 400, referrer: "a.example", id: id);
        var other = one with { Referrer = "b.example" };
        using var a = ClickStore.Open(Path.Combine(_dir.Path, "a.db"));
        using var b = ClickStore.Open(Path.Combine(_dir.Path, "b.db"));
        Assert.Equal(1, a.Add([one]).Added);
        Assert.Equal(0, a.Add([other]).Added);
        Assert.Equal(1, b.Add([other]).Added);
        Assert.Equal(0, b.Add([one]).Added);
        Assert.Equal(a.Digests(0, 0), b.Digests(0, 0));
        var winner = ClickHashes.ContentHash(one) < ClickHashes.ContentHash(other) ? one : other;
        Assert.Equal([winner], a.Get(0, 0, DayKeys(a), [ClickHashes.IdHash(id)]));
        Assert.Equal(1, a.Stats("abc", 0, 1000).Total);
    }

    [Fact]
    public void Top_referrers_count_people_not_bots()
    {
        using var store = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        store.Add([Click("abc", 1, ClickKind.Bot, "crawl.example"), Click("abc", 1, ClickKind.Bot, "crawl.example"), Click("abc", 1, referrer: "people.example")]);
        Assert.Equal([new ReferrerCount("people.example", 1)], store.Stats("abc", 0, 10).TopReferrers);
    }

    [Fact]
    public void A_ring_range_holds_the_clicks_of_the_links_placed_in_it()
    {
        using var store = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        var clicks = Enumerable.Range(0, 300).Select(i => Click($"l{i}", 300)).ToList();
        store.Add(clicks);
        const ulong mid = 1UL << 63;
        var low = store.Digests(0, mid);
        var high = store.Digests(mid, 0); // wraps: [mid, 2^64)
        Assert.Equal(300, low.Count + high.Count);
        Assert.Equal(clicks.Count(c => HashRing.KeyHash(c.Code) < mid), low.Count);
    }

    [Fact]
    public void A_damaged_database_is_refused_with_advice()
    {
        var path = Path.Combine(_dir.Path, "clicks.db");
        File.WriteAllText(path, "this is not a database, only bytes that claim a place where one should be....");
        var error = Assert.Throws<StorageException>(() => ClickStore.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("anti-entropy refills it", error.Message);
    }

    [Fact]
    public void The_store_counts_exactly_as_the_coordinator_does_over_a_union()
    {
        var random = new Random(5);
        var delivered = Enumerable.Range(0, 3_000).Select(_ => Click(
            $"k{random.Next(7)}",
            500 + random.Next(20),
            random.Next(4) == 0 ? ClickKind.Bot : ClickKind.Human,
            random.Next(3) == 0 ? null : $"r{random.Next(15)}.example")).ToList();
        // Second versions of every tenth id (another kind, referrer or day: what damage makes),
        // delivered again with duplicates of the first ones: the daily counters must follow the
        // winner of each id, in the batch it arrived in or a later one.
        var versions = delivered.Where((_, i) => i % 10 == 0).Select((c, i) => (i % 3) switch
        {
            0 => c with { Kind = c.Kind == ClickKind.Bot ? ClickKind.Human : ClickKind.Bot },
            1 => c with { Referrer = "other.example" },
            _ => c with { AtMs = c.AtMs + 86_400_000L },
        }).ToList();
        using var store = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        store.Add(delivered.Take(2_000).Concat(versions.Take(100)).ToList());
        store.Add(versions.Skip(100).Concat(delivered).Concat(versions.Take(50)).ToList());
        var clicks = ClickAggregation.Union([delivered, versions]).Values.ToList();
        Assert.Equal(ClickAggregation.DayDigests(clicks, []).Order(), store.Digests(0, 0).Order());
        Assert.Equal(clicks.Count, store.Count);
        foreach (var code in Enumerable.Range(0, 7).Select(i => $"k{i}"))
        {
            var sql = store.Stats(code, 505, 514, 10);
            var mine = ClickAggregation.Stats(code, clicks, 505, 514, 10);
            Assert.Equal((mine.Total, mine.Human, mine.Bots), (sql.Total, sql.Human, sql.Bots));
            Assert.Equal(mine.Days, sql.Days);
            Assert.Equal(mine.TopReferrers, sql.TopReferrers);
            var chosen = clicks.Where(c => c.Code == code && c.Day is >= 505 and <= 514).ToList();
            Assert.Equal((chosen.Count, ClickAggregation.Fingerprint(chosen.Select(c => (ClickHashes.IdHash(c.Id), ClickHashes.ContentHash(c))))), store.Fingerprint(code, 505, 514));
            Assert.Equal(chosen.Select(c => c.Id).Order(), store.Events(code, 505, 514).Select(c => c.Id).Order());
        }

        Assert.Equal(clicks.GroupBy(c => c.Code).Select(g => (g.Key, g.LongCount(c => c.Kind == ClickKind.Human), g.LongCount(c => c.Kind == ClickKind.Bot))).OrderBy(t => t.Key),
            store.Totals(0, 10_000).Select(t => (t.Code, t.Human, t.Bots)));
    }

    [Fact]
    public void The_sqlite_store_and_the_simulators_in_memory_store_answer_alike_for_every_range_and_set_of_days()
    {
        var random = new Random(11);
        var delivered = Enumerable.Range(0, 4_000).Select(_ => Click(
            $"q{random.Next(60)}", 700 + random.Next(5), random.Next(5) == 0 ? ClickKind.Bot : ClickKind.Human,
            random.Next(2) == 0 ? null : $"r{random.Next(4)}.example", origin: (ulong)random.Next(4))).ToList();
        var versions = delivered.Where((_, i) => i % 17 == 0).Select(c => c with { Code = c.Code + "x", Kind = ClickKind.Bot }).ToList();
        using var sql = ClickStore.Open(Path.Combine(_dir.Path, "clicks.db"));
        var memory = new InMemoryClickReplicaStore();
        foreach (var batch in delivered.Concat(versions).Concat(delivered.Take(500)).Chunk(333))
        {
            Assert.Equal(memory.Add(batch), sql.Add(batch));
        }

        var bounds = Enumerable.Range(0, 6).Select(_ => (ulong)random.NextInt64() << 1).Append(0UL).ToList();
        AssertAlike(memory, sql, bounds, delivered.Concat(versions).Select(c => c.Code).Distinct().ToList());

        // Days 700 and 701 sealed here in two passes (one bounded); a peer's versions of 701 and
        // 702 merged (702 still open here: sealed first); then clicks of sealed days are late.
        var (memoryFirst, sqlFirst) = (memory.Seal(702, 1, 400), sql.Seal(702, 1, 400));
        Assert.InRange(sqlFirst, 400, 1_000); // a pass stops after the (day, ring bucket) that reached the bound
        Assert.Equal(memoryFirst + memory.Seal(702, 1, 100_000), sqlFirst + sql.Seal(702, 1, 100_000));
        Assert.Equal(0, sql.Seal(702, 1, 100_000));
        var peer = new InMemoryClickReplicaStore();
        peer.Add(delivered.Where(c => c.Day is 701 or 702 && c.Origin != 2).ToList());
        peer.Seal(703, 2, 100_000);
        var records = peer.AllSealed.ToList();
        Assert.Equal(memory.Merge(records, 1), sql.Merge(records, 1));
        Assert.Equal(0, sql.Merge(records, 1));
        var late = delivered.Where(c => c.Day <= 702).Take(50).Select(c => c with { Id = Guid.NewGuid() }).Concat(delivered.Where(c => c.Day == 704).Take(5).Select(c => c with { Id = Guid.NewGuid() })).ToList();
        var stored = sql.Add(late);
        Assert.Equal(memory.Add(late), stored);
        Assert.Equal((5, 50), (stored.Added, stored.Late));
        AssertAlike(memory, sql, bounds, delivered.Concat(versions).Select(c => c.Code).Distinct().ToList());
        Assert.Equal(memory.Sealed(0, 0, memory.Digests(0, 0).Select(d => d.KeyHash).ToList()).Select(r => r.Encode()).OrderBy(Convert.ToBase64String), sql.Sealed(0, 0, sql.Digests(0, 0).Select(d => d.KeyHash).ToList()).Select(r => r.Encode()).OrderBy(Convert.ToBase64String));
    }

    private static void AssertAlike(InMemoryClickReplicaStore memory, ClickStore sql, IReadOnlyList<ulong> bounds, IReadOnlyList<string> codes)
    {
        foreach (var from in bounds)
        {
            foreach (var to in bounds)
            {
                var days = memory.Digests(from, to).OrderBy(d => d.KeyHash).ToList();
                Assert.Equal(days, sql.Digests(from, to).OrderBy(d => d.KeyHash).ToList());
                var some = days.Where((_, i) => i % 3 != 1).Select(d => d.KeyHash).Append(12345UL).ToList();
                var clicks = memory.EventDigests(from, to, some).Order().ToList();
                Assert.Equal(clicks, sql.EventDigests(from, to, some).Order().ToList());
                var wanted = clicks.Where((_, i) => i % 4 == 0).Select(c => c.KeyHash).ToList();
                Assert.Equal(memory.Get(from, to, some, wanted).OrderBy(e => e.Id), sql.Get(from, to, some, wanted).OrderBy(e => e.Id));
            }
        }

        Assert.Equal(memory.Totals(0, 10_000), sql.Totals(0, 10_000));
        Assert.Equal(memory.Count + memory.AllSealed.Sum(r => r.Value.Total), sql.Count);
        Assert.Equal(memory.Count, sql.OpenClicks);
        foreach (var code in codes)
        {
            Assert.Equal(memory.Fingerprint(code, 701, 703), sql.Fingerprint(code, 701, 703));
            Assert.Equal(memory.Events(code, 0, 10_000).OrderBy(e => e.Id), sql.Events(code, 0, 10_000).OrderBy(e => e.Id));
            Assert.Equal(memory.Sealed(code, 0, 10_000).Select(r => r.Encode()), sql.Sealed(code, 0, 10_000).Select(r => r.Encode()));
            var (a, b) = (memory.Stats(code, 0, 10_000, 3), sql.Stats(code, 0, 10_000, 3));
            Assert.Equal((a.Total, a.Human, a.Bots), (b.Total, b.Human, b.Bots));
            Assert.Equal(a.Days, b.Days);
            Assert.Equal(a.TopReferrers, b.TopReferrers);
        }
    }

    [Fact]
    public void Sealing_replaces_a_days_clicks_with_its_record_and_a_reopened_store_still_refuses_late_clicks()
    {
        var path = Path.Combine(_dir.Path, "clicks.db");
        var old = Enumerable.Range(0, 300).Select(i => Click($"s{i % 7}", 800 + (i % 3), i % 5 == 0 ? ClickKind.Bot : ClickKind.Human, i % 2 == 0 ? "a.example" : null, origin: (ulong)(i % 3) + 1)).ToList();
        var kept = Enumerable.Range(0, 20).Select(i => Click($"s{i % 7}", 810)).ToList();
        var before = new Dictionary<string, ClickStats>();
        using (var store = ClickStore.Open(path))
        {
            store.Add(old.Concat(kept).ToList());
            foreach (var code in old.Select(c => c.Code).Distinct())
            {
                before[code] = store.Stats(code, 0, 1_000);
            }

            Assert.Equal(300, store.Seal(803, replica: 4, maxClicks: 1_000_000));
            Assert.Equal(20, store.OpenClicks);
            Assert.Equal(320, store.Count);
            foreach (var (code, stats) in before)
            {
                var after = store.Stats(code, 0, 1_000);
                Assert.Equal((stats.Total, stats.Human, stats.Bots), (after.Total, after.Human, after.Bots));
                Assert.Equal(stats.Days, after.Days);
                Assert.Equal(stats.TopReferrers, after.TopReferrers);
                Assert.Equal(3, store.Sealed(code, 0, 1_000).Count);
                Assert.Empty(store.Events(code, 800, 802));
            }
        }

        using var reopened = ClickStore.Open(path);
        var late = reopened.Add([Click("s1", 801, origin: 1), Click("s1", 811, origin: 1), Click("new", 801)]);
        Assert.Equal((2, 1), (late.Added, late.Late)); // a link with no record of that day takes it (it is sealed at the next pass)
        Assert.Equal(1, reopened.Seal(803, replica: 4, maxClicks: 1_000_000));
        Assert.Equal(323 - 1, reopened.Count);
    }

    [Fact]
    public void A_damaged_sealed_day_is_refused_with_the_file_named_and_replaced_by_the_next_version_instead_of_blocking_writes()
    {
        var path = Path.Combine(_dir.Path, "clicks.db");
        using (var store = ClickStore.Open(path))
        {
            store.Add([Click("d", 800, origin: 1)]);
            store.Seal(801, replica: 1, maxClicks: 10);
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var damage = connection.CreateCommand();
            damage.CommandText = "UPDATE sealed_days SET record = substr(record, 1, length(record) - 3)";
            Assert.Equal(1, damage.ExecuteNonQuery());
        }

        using var reopened = ClickStore.Open(path);
        var error = Assert.Throws<StorageException>(() => reopened.Stats("d", 0, 1_000));
        Assert.Contains(path, error.Message);
        Assert.Equal(1, reopened.Totals(0, 1_000).Single().Total); // what needs no record still answers

        // A batch that touches the damaged day still stores the rest (the day's click is late: sealed here).
        var stored = reopened.Add([Click("other", 900), Click("d", 800, origin: 2)]);
        Assert.Equal((1, 1), (stored.Added, stored.Late));

        // Another replica's version replaces the damaged record; the batch's other record merges too.
        var peer = SealedDayRecord.Seal("d", 800, null, 2, [Click("d", 800, origin: 1), Click("d", 800, origin: 2)]);
        var good = SealedDayRecord.Seal("e", 800, null, 2, [Click("e", 800, origin: 2)]);
        Assert.Equal(2, reopened.Merge([good, peer], 1));
        Assert.Equal(1, reopened.ReplacedDamagedRecords);
        Assert.Equal(2, reopened.Stats("d", 0, 1_000).Total);
    }

    [Fact]
    public void A_version_1_database_moves_to_the_time_ordered_layout_with_every_click()
    {
        var path = Path.Combine(_dir.Path, "v1.db");
        var clicks = Enumerable.Range(0, 48).Select(i => Click($"m{i % 5}", 700 + (i % 2), referrer: i % 3 == 0 ? "old.example" : null)).ToList();
        // Ids whose bytes are NULs and 0xFF (not UTF-8): the byte reordering must keep them whole.
        clicks.Add(Click("m0", 700, id: new Guid(new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 })));
        clicks.Add(Click("m1", 701, id: new Guid(Enumerable.Repeat((byte)0xFF, 15).Append((byte)0xC3).ToArray())));
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Storage.Sqlite.SchemaMigrator.Migrate(connection, ClickSchema.Migrations.Take(1).ToList(), path);
            foreach (var c in clicks)
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO click_events VALUES ($id, $idHash, $ring, $code, $day, $at, $hlc, $kind, $referrer, $country, $content)";
                insert.Parameters.AddWithValue("$id", c.Id.ToByteArray());
                insert.Parameters.AddWithValue("$idHash", (long)(ClickHashes.IdHash(c.Id) ^ 0x8000000000000000UL));
                insert.Parameters.AddWithValue("$ring", (long)(HashRing.KeyHash(c.Code) ^ 0x8000000000000000UL));
                insert.Parameters.AddWithValue("$code", c.Code);
                insert.Parameters.AddWithValue("$day", c.Day);
                insert.Parameters.AddWithValue("$at", c.AtMs);
                insert.Parameters.AddWithValue("$hlc", (long)c.Hlc.Pack());
                insert.Parameters.AddWithValue("$kind", (int)c.Kind);
                insert.Parameters.AddWithValue("$referrer", (object?)c.Referrer ?? DBNull.Value);
                insert.Parameters.AddWithValue("$country", (object?)c.Country ?? DBNull.Value);
                insert.Parameters.AddWithValue("$content", (long)(ClickHashes.ContentHash(c) ^ 0x8000000000000000UL));
                insert.ExecuteNonQuery();
            }
        }

        using var store = ClickStore.Open(path);
        Assert.Equal(50, store.Count);
        Assert.Equal(0, store.Add(clicks).Added); // the same ids: nothing new
        Assert.Equal(clicks.OrderBy(c => c.Id), store.Get(0, 0, DayKeys(store), clicks.Select(c => ClickHashes.IdHash(c.Id))).OrderBy(c => c.Id));
        Assert.Equal(ClickAggregation.DayDigests(clicks, []).Order(), store.Digests(0, 0).Order());
        Assert.Equal(ClickAggregation.Fingerprint(clicks.Where(c => c.Code == "m1").Select(c => (ClickHashes.IdHash(c.Id), ClickHashes.ContentHash(c)))), store.Fingerprint("m1", 0, 1000).Fingerprint);
        Assert.Equal(clicks.Where(c => c.Code == "m1").OrderBy(c => c.Id), store.Events("m1", 0, 1000).OrderBy(c => c.Id));
        Assert.Equal(ClickAggregation.Stats("m1", clicks, 0, 1000, 10).TopReferrers, store.Stats("m1", 0, 1000).TopReferrers);

        // Clicks from before origins were recorded seal under origin 0.
        Assert.Equal(50, store.Seal(702, replica: 1, maxClicks: 1_000));
        Assert.Equal(50, store.Count);
        Assert.All(store.Sealed("m1", 0, 1000), r => Assert.Equal([0UL], r.Value.Human.Entries.Select(e => e.Node)));
        Assert.Equal(ClickAggregation.Stats("m1", clicks, 0, 1000, 10).TopReferrers, store.Stats("m1", 0, 1000).TopReferrers);
    }

    private static List<ulong> DayKeys(ClickStore store) => store.Digests(0, 0).Select(d => d.KeyHash).ToList();

    /// <summary>One Merkle comparison of two digest sets, as anti-entropy runs it: the keys each side must send.</summary>
    private static (IReadOnlyList<ulong> Push, IReadOnlyList<ulong> Pull) Differing(IReadOnlyList<(ulong KeyHash, ulong ValueHash)> mine, IReadOnlyList<(ulong KeyHash, ulong ValueHash)> theirs)
    {
        var depth = MerkleTree.DepthFor(Math.Max(mine.Count, theirs.Count));
        var (treeA, treeB) = (MerkleTree.Build(mine, depth), MerkleTree.Build(theirs, depth));
        var comparison = new MerkleComparison(treeA);
        while (comparison.Next is { } request)
        {
            comparison.Answer(request.AnswerFrom(treeB));
        }

        var leaves = comparison.DifferingLeaves.ToHashSet();
        return MerkleComparison.Reconcile(
            mine.Where(d => leaves.Contains(treeA.LeafOf(d.KeyHash))).ToDictionary(),
            theirs.Where(d => leaves.Contains(treeB.LeafOf(d.KeyHash))).ToDictionary());
    }
}
