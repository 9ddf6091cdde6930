using Shortener.Core.Crdt;

namespace Shortener.Core.Clicks;

/// <summary>
/// Counts one replica's clicks of one link's day as they stream past (a seal reads them from
/// disk), holding counts per origin and referring host, never the clicks; <see cref="ToSealedDay"/>
/// gives the <see cref="SealedDay"/> they make. A version keeps the referring hosts of at most
/// <see cref="MaxReferrers"/> hosts (the most clicked, then by name), so a record's size is bounded
/// whatever Referer headers clients send; the counts of clicks are whole.
/// </summary>
public sealed class SealedDayTally
{
    public const int MaxReferrers = 100;

    private readonly Dictionary<ulong, long> _human = [];
    private readonly Dictionary<ulong, long> _bots = [];
    private readonly Dictionary<string, Dictionary<ulong, long>> _referrers = new(StringComparer.Ordinal);

    /// <summary>Clicks counted so far.</summary>
    public long Count { get; private set; }

    public void Add(ulong origin, ClickKind kind, string? referrer)
    {
        Count++;
        var counts = kind == ClickKind.Human ? _human : _bots;
        counts[origin] = counts.GetValueOrDefault(origin) + 1;
        if (kind == ClickKind.Human && referrer is not null)
        {
            if (!_referrers.TryGetValue(referrer, out var perOrigin))
            {
                _referrers[referrer] = perOrigin = [];
            }

            perOrigin[origin] = perOrigin.GetValueOrDefault(origin) + 1;
        }
    }

    public SealedDay ToSealedDay() => SealedDay.From(
        GCounter.From(_human.Select(kv => (kv.Key, kv.Value))),
        GCounter.From(_bots.Select(kv => (kv.Key, kv.Value))),
        _referrers
            .Select(r => (Host: r.Key, Clicks: GCounter.From(r.Value.Select(kv => (kv.Key, kv.Value)))))
            .OrderByDescending(r => r.Clicks.Value)
            .ThenBy(r => r.Host, StringComparer.Ordinal)
            .Take(MaxReferrers));
}
