namespace Shortener.Core.Clicks;

/// <summary>
/// One node's replica of the click store, as <see cref="ClickNode"/> uses it: events kept whole
/// and deduplicated by id (a second version of an id is kept only if it supersedes the first, see
/// <see cref="ClickHashes.Supersedes"/>), each placed on the ring at its link's position. Calls are
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

    /// <summary>(id hash, content hash) of every click whose link lies in ring range [from, to), wrapping past zero when from ≥ to.</summary>
    IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to);

    /// <summary>The clicks in ring range [from, to) with these id hashes.</summary>
    IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IEnumerable<ulong> idHashes);

    /// <summary>Per link, the human and bot clicks in the days given (what a cluster summary adds up).</summary>
    IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay);
}
