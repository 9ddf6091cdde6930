namespace Shortener.Core.Clicks;

/// <summary>
/// One node's replica of the click store, as <see cref="ClickNode"/> uses it: events kept whole
/// and deduplicated by id (a second version of an id is kept only if it supersedes the first, see
/// <see cref="ClickHashes.Supersedes"/>), each placed on the ring at its link's position, and
/// counted per link and UTC day (the daily counters, which stats, fingerprints and the first tree
/// of anti-entropy read instead of the events). Calls are
/// synchronous and durable when they return. Implemented on SQLite by the node and in memory for
/// the simulator and tests.
/// </summary>
public interface IClickReplicaStore
{
    /// <summary>Stores the events not stored yet; returns how many were new.</summary>
    int Add(IReadOnlyList<ClickEvent> events);

    /// <summary>A link's clicks over days <paramref name="fromDay"/> to <paramref name="toDay"/> inclusive, as <see cref="ClickAggregation.Stats"/> computes them.</summary>
    ClickStats Stats(string code, int fromDay, int toDay, int topReferrers);

    /// <summary>How many clicks of the link lie in the days given, and their <see cref="ClickAggregation.Fingerprint"/>.</summary>
    (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay);

    /// <summary>The link's clicks in the days given (what a read repair merges).</summary>
    IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay);

    /// <summary>
    /// (<see cref="ClickHashes.DayKey"/>, <see cref="ClickHashes.DayValue"/>) of every daily counter
    /// whose link lies in ring range [from, to), wrapping past zero when from ≥ to: what the first
    /// Merkle tree of an anti-entropy exchange is built from (<see cref="ClickAggregation.DayDigests"/>).
    /// </summary>
    IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to);

    /// <summary>(id hash, content hash) of the clicks behind these daily counters (day keys) of ring range [from, to): the second tree.</summary>
    IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days);

    /// <summary>The clicks behind these daily counters of ring range [from, to) with these id hashes.</summary>
    IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes);

    /// <summary>Per link, the human and bot clicks in the days given (what a cluster summary adds up).</summary>
    IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay);
}
