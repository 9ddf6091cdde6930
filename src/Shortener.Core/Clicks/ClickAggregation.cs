using Shortener.Core.Merkle;

namespace Shortener.Core.Clicks;

/// <summary>
/// Counts derived from click events and sealed days, computed the same way wherever they are
/// computed: by a replica's store (in SQL) and by a coordinator over the union of what several
/// replicas sent (a read that found them disagreeing). Tested against each other.
/// </summary>
public static class ClickAggregation
{
    /// <summary>A link's clicks from <paramref name="fromDay"/> to <paramref name="toDay"/> (inclusive), per day, and the top referrers of human clicks (most first, then by name).</summary>
    public static ClickStats Stats(string code, IEnumerable<ClickEvent> events, int fromDay, int toDay, int topReferrers) =>
        Stats(code, events, [], fromDay, toDay, topReferrers);

    /// <summary>
    /// The same over open clicks and sealed days (<paramref name="sealedDays"/>: day and what it
    /// counts), which name different days: a replica holds a day open or sealed, and a coordinator
    /// merging replicas counts a day's open clicks into its sealed value (<see cref="MergeDays"/>).
    /// </summary>
    public static ClickStats Stats(string code, IEnumerable<ClickEvent> events, IEnumerable<(int Day, SealedDay Value)> sealedDays, int fromDay, int toDay, int topReferrers)
    {
        var chosen = events.Where(e => e.Code == code && e.Day >= fromDay && e.Day <= toDay).ToList();
        var sealedChosen = sealedDays.Where(s => s.Day >= fromDay && s.Day <= toDay).ToList();
        var days = chosen
            .GroupBy(e => e.Day)
            .Select(g => new ClickDay(g.Key, g.LongCount(e => e.Kind == ClickKind.Human), g.LongCount(e => e.Kind == ClickKind.Bot)))
            .Concat(sealedChosen.Where(s => s.Value.Total > 0).Select(s => new ClickDay(s.Day, s.Value.Human.Value, s.Value.Bots.Value)))
            .OrderBy(d => d.Day)
            .ToList();
        var referrers = chosen
            .Where(e => e.Kind == ClickKind.Human && e.Referrer is not null)
            .Select(e => (Host: e.Referrer!, Clicks: 1L))
            .Concat(sealedChosen.SelectMany(s => s.Value.Referrers.Select(r => (Host: r.Host, Clicks: r.Clicks.Value))))
            .GroupBy(r => r.Host, StringComparer.Ordinal)
            .Select(g => new ReferrerCount(g.Key, g.Sum(r => r.Clicks)))
            .Where(r => r.Clicks > 0)
            .OrderByDescending(r => r.Clicks)
            .ThenBy(r => r.Referrer, StringComparer.Ordinal)
            .Take(topReferrers)
            .ToList();
        var human = days.Sum(d => d.Human);
        var bots = days.Sum(d => d.Bots);
        return new ClickStats(code, human + bots, human, bots, days, referrers);
    }

    /// <summary>
    /// A fingerprint of a set of clicks (the sum of their Merkle digests): two replicas holding the
    /// same clicks of a link have the same one; different sets collide only by chance.
    /// </summary>
    public static ulong Fingerprint(IEnumerable<(ulong IdHash, ulong ContentHash)> digests)
    {
        var sum = 0UL;
        foreach (var (id, content) in digests)
        {
            sum += MerkleTree.Digest(id, content);
        }

        return sum;
    }

    /// <summary>
    /// How many clicks a replica's open clicks and sealed days of a link count, and their
    /// fingerprint: the clicks' digests and each sealed day's (<see cref="SealedDigest"/>) summed.
    /// </summary>
    public static (long Count, ulong Fingerprint) Fingerprint(IEnumerable<ClickEvent> events, IEnumerable<SealedDayRecord> sealedDays)
    {
        var count = 0L;
        var sum = 0UL;
        foreach (var e in events)
        {
            count++;
            sum += ClickHashes.Digest(e);
        }

        foreach (var record in sealedDays)
        {
            count += record.Value.Total;
            sum += SealedDigest(record);
        }

        return (count, sum);
    }

    /// <summary>A sealed day's share of a fingerprint: its key and record hash mixed.</summary>
    public static ulong SealedDigest(SealedDayRecord record) => SealedDigest(record.Code, record.Day, record.Hash);

    /// <summary>The same from the link, the day and the record's hash (what a store keeps beside the record).</summary>
    public static ulong SealedDigest(string code, int day, ulong recordHash) => MerkleTree.Digest(ClickHashes.DayKey(code, day), ClickHashes.SealedValue(recordHash));

    /// <summary>
    /// The daily counters of a set of open clicks and sealed days as the first tree of an
    /// anti-entropy exchange sees them: per link and day, (<see cref="ClickHashes.DayKey"/>,
    /// <see cref="ClickHashes.DayValue"/> or <see cref="ClickHashes.SealedValue"/>).
    /// </summary>
    public static IReadOnlyList<(ulong KeyHash, ulong ValueHash)> DayDigests(IEnumerable<ClickEvent> events, IEnumerable<SealedDayRecord> sealedDays) => events
        .GroupBy(e => (e.Code, e.Day))
        .Select(g => (ClickHashes.DayKey(g.Key.Code, g.Key.Day), ClickHashes.DayValue(
            g.LongCount(e => e.Kind == ClickKind.Human), g.LongCount(e => e.Kind == ClickKind.Bot), Fingerprint(g.Select(e => (ClickHashes.IdHash(e.Id), ClickHashes.ContentHash(e)))))))
        .Concat(sealedDays.Select(r => (ClickHashes.DayKey(r.Code, r.Day), ClickHashes.SealedValue(r))))
        .ToList();

    /// <summary>The union of several replicas' clicks by id; two versions of one id resolve as every store resolves them.</summary>
    public static IReadOnlyDictionary<Guid, ClickEvent> Union(IEnumerable<IEnumerable<ClickEvent>> replicas)
    {
        var union = new Dictionary<Guid, (ClickEvent Event, ulong Content)>();
        foreach (var e in replicas.SelectMany(r => r))
        {
            var content = ClickHashes.ContentHash(e);
            if (!union.TryGetValue(e.Id, out var kept) || ClickHashes.Supersedes(content, kept.Content))
            {
                union[e.Id] = (e, content);
            }
        }

        return union.ToDictionary(p => p.Key, p => p.Value.Event);
    }

    /// <summary>
    /// Several replicas' views of one link merged, as a read that found them disagreeing answers:
    /// the records of each sealed day merged (their versions' union), and a day sealed anywhere
    /// counts the open clicks replicas still hold of it into its value (per origin, the higher
    /// count: those clicks are among what some version sealed, or were late to it). Days sealed
    /// nowhere stay open. Returns the union of every replica's open clicks by id (days sealed
    /// somewhere included: a replica that holds such a day open gets them, to seal with the
    /// record), the merged records by day, and what each sealed day counts.
    /// </summary>
    public static (IReadOnlyList<ClickEvent> Union, IReadOnlyDictionary<int, SealedDayRecord> Sealed, IReadOnlyList<(int Day, SealedDay Value)> Values) MergeDays(
        IEnumerable<IEnumerable<ClickEvent>> events, IEnumerable<IEnumerable<SealedDayRecord>> sealedDays)
    {
        var records = new Dictionary<int, SealedDayRecord>();
        foreach (var record in sealedDays.SelectMany(r => r))
        {
            records[record.Day] = records.TryGetValue(record.Day, out var kept) ? kept.Merge(record) : record;
        }

        var union = Union(events).Values.ToList();
        var late = union.Where(e => records.ContainsKey(e.Day)).GroupBy(e => e.Day).ToDictionary(g => g.Key, SealedDay.Count);
        var values = records.Values
            .Select(r => (r.Day, late.TryGetValue(r.Day, out var extra) ? r.Value.Merge(extra) : r.Value))
            .OrderBy(v => v.Day)
            .ToList();
        return (union, records, values);
    }
}
