namespace Shortener.Core.Clicks;

/// <summary>
/// One node's replica of the click store, as <see cref="ClickNode"/> uses it. A link's day is
/// either open or sealed here, never both:
/// <list type="bullet">
/// <item>open: its clicks are kept whole and deduplicated by id (a second version of an id is kept
/// only if it supersedes the first, see <see cref="ClickHashes.Supersedes"/>), each placed on the
/// ring at its link's position, and counted per link and UTC day (the daily counters, which stats,
/// fingerprints and the first tree of anti-entropy read instead of the clicks);</item>
/// <item>sealed: the clicks were folded into a <see cref="SealedDayRecord"/> (G-counters per origin,
/// versions per sealing replica) and dropped; clicks that arrive later for it are not stored.</item>
/// </list>
/// Calls are synchronous and durable when they return. Implemented on SQLite by the node and in
/// memory for the simulator and tests.
/// </summary>
public interface IClickReplicaStore
{
    /// <summary>Stores the clicks not stored yet, but for days this replica has sealed.</summary>
    StoredClicks Add(IReadOnlyList<ClickEvent> events);

    /// <summary>A link's clicks over days <paramref name="fromDay"/> to <paramref name="toDay"/> inclusive, open and sealed, as <see cref="ClickAggregation.Stats"/> computes them.</summary>
    ClickStats Stats(string code, int fromDay, int toDay, int topReferrers);

    /// <summary>How many clicks of the link lie in the days given, and their <see cref="ClickAggregation.Fingerprint(IEnumerable{ClickEvent}, IEnumerable{SealedDayRecord})"/>.</summary>
    (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay);

    /// <summary>The link's open clicks in the days given (what a read repair merges, with <see cref="Sealed(string, int, int)"/>).</summary>
    IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay);

    /// <summary>The link's sealed days among the days given.</summary>
    IReadOnlyList<SealedDayRecord> Sealed(string code, int fromDay, int toDay);

    /// <summary>
    /// (<see cref="ClickHashes.DayKey"/>, value) of every day of a link in ring range [from, to),
    /// wrapping past zero when from ≥ to: <see cref="ClickHashes.DayValue"/> for an open day,
    /// <see cref="ClickHashes.SealedValue"/> for a sealed one. What the first Merkle tree of an
    /// anti-entropy exchange is built from (<see cref="ClickAggregation.DayDigests"/>).
    /// </summary>
    IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to);

    /// <summary>(id hash, content hash) of the clicks of these open days (day keys) of ring range [from, to): the second tree.</summary>
    IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days);

    /// <summary>The clicks of these open days of ring range [from, to) with these id hashes.</summary>
    IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes);

    /// <summary>The records of these sealed days (day keys) of ring range [from, to).</summary>
    IReadOnlyList<SealedDayRecord> Sealed(ulong from, ulong to, IReadOnlyCollection<ulong> days);

    /// <summary>Per link, the human and bot clicks in the days given, open and sealed (what a cluster summary adds up).</summary>
    IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay);

    /// <summary>
    /// Seals open days before <paramref name="beforeDay"/>: each link's clicks of such a day become
    /// a version of its record written by <paramref name="replica"/>
    /// (<see cref="SealedDayRecord.Seal"/>) and are dropped. Stops after about
    /// <paramref name="maxClicks"/> clicks; returns how many it folded (0: none left).
    /// </summary>
    int Seal(int beforeDay, ulong replica, int maxClicks);

    /// <summary>
    /// Merges other replicas' records into this one's. A day this replica still holds open is
    /// sealed first (its clicks become its own version), so its clicks are counted in the record
    /// and never beside it. Returns how many records changed here.
    /// </summary>
    int Merge(IReadOnlyList<SealedDayRecord> records, ulong replica);
}
