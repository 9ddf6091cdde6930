using System.Buffers;
using Shortener.Core.Common;
using Shortener.Core.Crdt;

namespace Shortener.Core.Clicks;

/// <summary>
/// What a link's sealed day counts (see <see cref="SealedDayRecord"/>): human and bot clicks, and
/// human clicks per referring host, each as a <see cref="GCounter"/> with one entry per origin
/// node (the node whose redirect recorded the click). A replica's entry for an origin is how many
/// distinct clicks of that origin it held when it sealed the day, never more than the origin
/// recorded; merging takes each entry's maximum, so versions sealed by replicas that held different
/// clicks (one missed node 3's while cut off, another node 1's) merge to the fullest count of each
/// origin, and no exchange, retry or repair counts a click twice. Immutable; referrers sorted by
/// host, so equal values encode alike everywhere.
/// </summary>
public sealed class SealedDay : IEquatable<SealedDay>
{
    private readonly (string Host, GCounter Clicks)[] _referrers;

    private SealedDay(GCounter human, GCounter bots, (string Host, GCounter Clicks)[] sortedReferrers)
    {
        Human = human;
        Bots = bots;
        _referrers = sortedReferrers;
    }

    /// <summary>
    /// What a decoded counter may hold at most: so many origins, each so many clicks (far beyond any
    /// real day), which keeps every sum of a day's counters within a 64-bit integer.
    /// </summary>
    public const int MaxOrigins = 4_096;

    public const long MaxCount = 1L << 40;

    /// <summary>Referring hosts a decoded version may name: a replica's seal names at most <see cref="SealedDayTally.MaxReferrers"/>, the join of two versions under one dot more.</summary>
    public const int MaxReferrers = 10 * SealedDayTally.MaxReferrers;

    public static SealedDay Empty { get; } = new(GCounter.Empty, GCounter.Empty, []);

    public GCounter Human { get; }

    public GCounter Bots { get; }

    /// <summary>Human clicks per referring host, sorted by host (ordinal).</summary>
    public IReadOnlyList<(string Host, GCounter Clicks)> Referrers => _referrers;

    public long Total => Human.Value + Bots.Value;

    /// <summary>The counters of a set of distinct clicks (one link's day on one replica), per origin.</summary>
    public static SealedDay Count(IEnumerable<ClickEvent> clicks)
    {
        var tally = new SealedDayTally();
        foreach (var click in clicks)
        {
            tally.Add(click.Origin, click.Kind, click.Referrer);
        }

        return tally.ToSealedDay();
    }

    /// <summary>A value from its counters (referrers in any order; a host named twice keeps the merge of both).</summary>
    public static SealedDay From(GCounter human, GCounter bots, IEnumerable<(string Host, GCounter Clicks)> referrers)
    {
        var sorted = new SortedDictionary<string, GCounter>(StringComparer.Ordinal);
        foreach (var (host, clicks) in referrers)
        {
            sorted[host] = sorted.TryGetValue(host, out var kept) ? kept.Merge(clicks) : clicks;
        }

        return new SealedDay(human, bots, sorted.Where(r => r.Value.Value > 0).Select(r => (r.Key, r.Value)).ToArray());
    }

    /// <summary>Every counter merged entry by entry (a join: commutative, associative, idempotent).</summary>
    public SealedDay Merge(SealedDay other)
    {
        if (ReferenceEquals(this, other) || other == Empty)
        {
            return this;
        }

        return this == Empty ? other : From(Human.Merge(other.Human), Bots.Merge(other.Bots), _referrers.Concat(other._referrers));
    }

    /// <summary>The merge of several values (the siblings of a record), the same in any order.</summary>
    public static SealedDay Merge(IEnumerable<SealedDay> values) => values.Aggregate(Empty, (a, b) => a.Merge(b));

    public bool Equals(SealedDay? other) =>
        other is not null && Human.Equals(other.Human) && Bots.Equals(other.Bots)
        && _referrers.Length == other._referrers.Length
        && _referrers.Zip(other._referrers).All(p => p.First.Host == p.Second.Host && p.First.Clicks.Equals(p.Second.Clicks));

    public override bool Equals(object? obj) => Equals(obj as SealedDay);

    public override int GetHashCode() => HashCode.Combine(Human, Bots, _referrers.Length);

    internal void Write(ArrayBufferWriter<byte> w)
    {
        WriteCounter(w, Human);
        WriteCounter(w, Bots);
        w.U32((uint)_referrers.Length);
        foreach (var (host, clicks) in _referrers)
        {
            w.Str(host);
            WriteCounter(w, clicks);
        }
    }

    internal static SealedDay Read(ref WireReader r)
    {
        var human = ReadCounter(ref r);
        var bots = ReadCounter(ref r);
        var count = r.Count(8);
        if (count > MaxReferrers)
        {
            throw new FormatException($"a version of a sealed day with {count} referring hosts (at most {MaxReferrers})");
        }

        var referrers = new (string, GCounter)[count];
        for (var i = 0; i < referrers.Length; i++)
        {
            referrers[i] = (r.Str(), ReadCounter(ref r));
            if ((i > 0 && string.CompareOrdinal(referrers[i - 1].Item1, referrers[i].Item1) >= 0) || referrers[i].Item2.Value == 0)
            {
                throw new FormatException("a sealed day's referrers out of order, or one without clicks");
            }
        }

        return new SealedDay(human, bots, referrers);
    }

    private static void WriteCounter(ArrayBufferWriter<byte> w, GCounter counter)
    {
        w.U32((uint)counter.Entries.Count);
        foreach (var (node, count) in counter.Entries)
        {
            w.U64(node);
            w.I64(count);
        }
    }

    private static GCounter ReadCounter(ref WireReader r)
    {
        var count = r.Count(16);
        if (count > MaxOrigins)
        {
            throw new FormatException($"a counter of {count} origins (at most {MaxOrigins})");
        }

        var entries = new (ulong, long)[count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = (r.U64(), r.I64());
            if (entries[i].Item2 is <= 0 or > MaxCount || (i > 0 && entries[i - 1].Item1 >= entries[i].Item1))
            {
                throw new FormatException($"a counter with an entry out of order, or not from 1 to {MaxCount}");
            }
        }

        return GCounter.From(entries);
    }
}
