using Shortener.Core.Quorum;

namespace Shortener.Core.Clicks;

/// <summary>An <see cref="IClickReplicaStore"/> in dictionaries: for the simulator and tests. Everything it holds counts as durable.</summary>
public sealed class InMemoryClickReplicaStore : IClickReplicaStore
{
    private readonly Dictionary<Guid, (ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> _events = [];
    private readonly Dictionary<(string Code, int Day), SealedDayRecord> _sealed = [];

    /// <summary>Open clicks held.</summary>
    public int Count => _events.Count;

    public IEnumerable<ClickEvent> All => _events.Values.Select(v => v.Event);

    public IEnumerable<SealedDayRecord> AllSealed => _sealed.Values;

    /// <summary>Calls that failed on purpose (a simulated disk error): the next <c>Add</c> throws while this is set.</summary>
    public bool FailWrites { get; set; }

    public StoredClicks Add(IReadOnlyList<ClickEvent> events)
    {
        if (FailWrites)
        {
            throw new IOException("simulated disk error");
        }

        var added = 0;
        var late = 0;
        foreach (var e in events)
        {
            if (_sealed.ContainsKey((e.Code, e.Day)))
            {
                late++;
                continue;
            }

            var content = ClickHashes.ContentHash(e);
            if (_events.TryGetValue(e.Id, out var kept))
            {
                if (ClickHashes.Supersedes(content, kept.Content))
                {
                    _events[e.Id] = kept with { Event = e, Content = content, Ring = HashRing.KeyHash(e.Code) };
                }

                continue;
            }

            _events[e.Id] = (e, ClickHashes.IdHash(e.Id), content, HashRing.KeyHash(e.Code));
            added++;
        }

        return new StoredClicks(added, late);
    }

    public ClickStats Stats(string code, int fromDay, int toDay, int topReferrers) =>
        ClickAggregation.Stats(code, Of(code, fromDay, toDay).Select(v => v.Event), Sealed(code, fromDay, toDay).Select(r => (r.Day, r.Value)), fromDay, toDay, topReferrers);

    public (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay) =>
        ClickAggregation.Fingerprint(Of(code, fromDay, toDay).Select(v => v.Event), Sealed(code, fromDay, toDay));

    public IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay) => Of(code, fromDay, toDay).Select(v => v.Event).ToList();

    public IReadOnlyList<SealedDayRecord> Sealed(string code, int fromDay, int toDay) =>
        _sealed.Values.Where(r => r.Code == code && r.Day >= fromDay && r.Day <= toDay).OrderBy(r => r.Day).ToList();

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to) =>
        ClickAggregation.DayDigests(_events.Values.Where(v => InRange(v.Ring, from, to)).Select(v => v.Event), _sealed.Values.Where(r => InRange(HashRing.KeyHash(r.Code), from, to)));

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days) =>
        OfDays(from, to, days).Select(v => (v.IdHash, v.Content)).ToList();

    public IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes)
    {
        var wanted = idHashes.ToHashSet();
        return OfDays(from, to, days).Where(v => wanted.Contains(v.IdHash)).Select(v => v.Event).ToList();
    }

    public IReadOnlyList<SealedDayRecord> Sealed(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        var wanted = days.ToHashSet();
        return _sealed.Values.Where(r => InRange(HashRing.KeyHash(r.Code), from, to) && wanted.Contains(ClickHashes.DayKey(r.Code, r.Day))).ToList();
    }

    public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay) => _events.Values
        .Where(v => v.Event.Day >= fromDay && v.Event.Day <= toDay)
        .Select(v => (v.Event.Code, Human: v.Event.Kind == ClickKind.Human ? 1L : 0, Bots: v.Event.Kind == ClickKind.Bot ? 1L : 0))
        .Concat(_sealed.Values.Where(r => r.Day >= fromDay && r.Day <= toDay).Select(r => (r.Code, Human: r.Value.Human.Value, Bots: r.Value.Bots.Value)))
        .GroupBy(t => t.Code, StringComparer.Ordinal)
        .Select(g => new ClickTotals(g.Key, g.Sum(t => t.Human), g.Sum(t => t.Bots)))
        .Where(t => t.Total > 0)
        .OrderBy(t => t.Code, StringComparer.Ordinal)
        .ToList();

    public int Seal(int beforeDay, ulong replica, int maxClicks)
    {
        if (FailWrites)
        {
            throw new IOException("simulated disk error");
        }

        var folded = 0;
        var due = _events.Values.Where(v => v.Event.Day < beforeDay).GroupBy(v => (v.Event.Code, v.Event.Day)).OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Code, StringComparer.Ordinal);
        foreach (var day in due.ToList())
        {
            if (folded >= maxClicks)
            {
                break;
            }

            folded += SealOpen(day.Key.Code, day.Key.Day, replica);
        }

        return folded;
    }

    public int Merge(IReadOnlyList<SealedDayRecord> records, ulong replica)
    {
        if (FailWrites)
        {
            throw new IOException("simulated disk error");
        }

        var changed = 0;
        foreach (var record in records)
        {
            SealOpen(record.Code, record.Day, replica);
            var key = (record.Code, record.Day);
            var merged = _sealed.TryGetValue(key, out var kept) ? kept.Merge(record) : record;
            if (kept is null || merged.Hash != kept.Hash)
            {
                _sealed[key] = merged;
                changed++;
            }
        }

        return changed;
    }

    /// <summary>Whether ring position <paramref name="position"/> lies in [from, to), wrapping past zero when from ≥ to.</summary>
    public static bool InRange(ulong position, ulong from, ulong to) => from < to ? position >= from && position < to : position >= from || position < to;

    /// <summary>Seals one link's open day here, if it has clicks; returns how many it folded.</summary>
    private int SealOpen(string code, int day, ulong replica)
    {
        var clicks = _events.Values.Where(v => v.Event.Code == code && v.Event.Day == day).ToList();
        if (clicks.Count == 0)
        {
            return 0;
        }

        _sealed[(code, day)] = SealedDayRecord.Seal(code, day, _sealed.GetValueOrDefault((code, day)), replica, clicks.Select(c => c.Event));
        foreach (var click in clicks)
        {
            _events.Remove(click.Event.Id);
        }

        return clicks.Count;
    }

    private IEnumerable<(ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> OfDays(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        var wanted = days.ToHashSet();
        return _events.Values.Where(v => InRange(v.Ring, from, to) && wanted.Contains(ClickHashes.DayKey(v.Event.Code, v.Event.Day)));
    }

    private IEnumerable<(ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> Of(string code, int fromDay, int toDay) =>
        _events.Values.Where(v => v.Event.Code == code && v.Event.Day >= fromDay && v.Event.Day <= toDay);
}
