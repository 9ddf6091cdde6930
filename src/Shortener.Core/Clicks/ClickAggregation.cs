using Shortener.Core.Merkle;

namespace Shortener.Core.Clicks;

/// <summary>
/// Counts derived from click events, computed the same way wherever they are computed: by a
/// replica's store (in SQL) and by a coordinator over the union of what several replicas sent
/// (a read that found them disagreeing). Tested against each other.
/// </summary>
public static class ClickAggregation
{
    /// <summary>A link's clicks from <paramref name="fromDay"/> to <paramref name="toDay"/> (inclusive), per day, and the top referrers of human clicks (most first, then by name).</summary>
    public static ClickStats Stats(string code, IEnumerable<ClickEvent> events, int fromDay, int toDay, int topReferrers)
    {
        var chosen = events.Where(e => e.Code == code && e.Day >= fromDay && e.Day <= toDay).ToList();
        var days = chosen
            .GroupBy(e => e.Day)
            .OrderBy(g => g.Key)
            .Select(g => new ClickDay(g.Key, g.LongCount(e => e.Kind == ClickKind.Human), g.LongCount(e => e.Kind == ClickKind.Bot)))
            .ToList();
        var referrers = chosen
            .Where(e => e.Kind == ClickKind.Human && e.Referrer is not null)
            .GroupBy(e => e.Referrer!, StringComparer.Ordinal)
            .Select(g => new ReferrerCount(g.Key, g.LongCount()))
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
    /// The daily counters of a set of clicks as the first tree of an anti-entropy exchange sees
    /// them: per link and day, (<see cref="ClickHashes.DayKey"/>, <see cref="ClickHashes.DayValue"/>).
    /// </summary>
    public static IReadOnlyList<(ulong KeyHash, ulong ValueHash)> DayDigests(IEnumerable<ClickEvent> events) => events
        .GroupBy(e => (e.Code, e.Day))
        .Select(g => (ClickHashes.DayKey(g.Key.Code, g.Key.Day), ClickHashes.DayValue(
            g.LongCount(e => e.Kind == ClickKind.Human), g.LongCount(e => e.Kind == ClickKind.Bot), Fingerprint(g.Select(e => (ClickHashes.IdHash(e.Id), ClickHashes.ContentHash(e)))))))
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
}
