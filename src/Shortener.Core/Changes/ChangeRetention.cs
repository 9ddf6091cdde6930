namespace Shortener.Core.Changes;

/// <summary>
/// How long a shard keeps its change events for the feed: a day, and at most
/// <see cref="KeepChanges"/>. Purged with the idempotency records by the replicated purge command,
/// so every replica forgets the same prefix at the same point of the log.
/// </summary>
public static class ChangeRetention
{
    public const long KeepMs = 24L * 60 * 60 * 1000;
    public const int KeepChanges = 100_000;

    /// <summary>
    /// Where a purge cuts <paramref name="kept"/> (in offset order): through the newest change made
    /// before <paramref name="beforeMs"/> and through all but the newest <paramref name="keep"/>;
    /// null when nothing goes. A prefix, so the feed never has holes.
    /// </summary>
    public static ChangeOffset? Cut(IReadOnlyList<LinkChange> kept, long beforeMs, int keep)
    {
        ChangeOffset? cut = kept.Count > keep ? kept[kept.Count - keep - 1].Offset : null;
        for (var i = kept.Count - 1; i >= 0; i--)
        {
            if (kept[i].AtMs < beforeMs)
            {
                return cut is { } byCount && byCount.CompareTo(kept[i].Offset) > 0 ? byCount : kept[i].Offset;
            }
        }

        return cut;
    }
}
