using Shortener.Core.Quorum;

namespace Shortener.Core.Clicks;

/// <summary>An <see cref="IClickReplicaStore"/> in a dictionary: for the simulator and tests. Everything it holds counts as durable.</summary>
public sealed class InMemoryClickReplicaStore : IClickReplicaStore
{
    private readonly Dictionary<Guid, (ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> _events = [];

    public int Count => _events.Count;

    public IEnumerable<ClickEvent> All => _events.Values.Select(v => v.Event);

    /// <summary>Calls that failed on purpose (a simulated disk error): the next <c>Add</c> throws while this is set.</summary>
    public bool FailWrites { get; set; }

    public int Add(IReadOnlyList<ClickEvent> events)
    {
        if (FailWrites)
        {
            throw new IOException("simulated disk error");
        }

        var added = 0;
        foreach (var e in events)
        {
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

        return added;
    }

    public ClickStats Stats(string code, int fromDay, int toDay, int topReferrers) => ClickAggregation.Stats(code, Of(code, fromDay, toDay).Select(v => v.Event), fromDay, toDay, topReferrers);

    public (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay)
    {
        var chosen = Of(code, fromDay, toDay).ToList();
        return (chosen.Count, ClickAggregation.Fingerprint(chosen.Select(v => (v.IdHash, v.Content))));
    }

    public IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay) => Of(code, fromDay, toDay).Select(v => v.Event).ToList();

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to) =>
        ClickAggregation.DayDigests(_events.Values.Where(v => InRange(v.Ring, from, to)).Select(v => v.Event));

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days) =>
        OfDays(from, to, days).Select(v => (v.IdHash, v.Content)).ToList();

    public IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes)
    {
        var wanted = idHashes.ToHashSet();
        return OfDays(from, to, days).Where(v => wanted.Contains(v.IdHash)).Select(v => v.Event).ToList();
    }

    public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay) => _events.Values
        .Where(v => v.Event.Day >= fromDay && v.Event.Day <= toDay)
        .GroupBy(v => v.Event.Code, StringComparer.Ordinal)
        .Select(g => new ClickTotals(g.Key, g.LongCount(v => v.Event.Kind == ClickKind.Human), g.LongCount(v => v.Event.Kind == ClickKind.Bot)))
        .OrderBy(t => t.Code, StringComparer.Ordinal)
        .ToList();

    /// <summary>Whether ring position <paramref name="position"/> lies in [from, to), wrapping past zero when from ≥ to.</summary>
    public static bool InRange(ulong position, ulong from, ulong to) => from < to ? position >= from && position < to : position >= from || position < to;

    private IEnumerable<(ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> OfDays(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        var wanted = days.ToHashSet();
        return _events.Values.Where(v => InRange(v.Ring, from, to) && wanted.Contains(ClickHashes.DayKey(v.Event.Code, v.Event.Day)));
    }

    private IEnumerable<(ClickEvent Event, ulong IdHash, ulong Content, ulong Ring)> Of(string code, int fromDay, int toDay) =>
        _events.Values.Where(v => v.Event.Code == code && v.Event.Day >= fromDay && v.Event.Day <= toDay);
}
