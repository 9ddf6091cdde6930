using Shortener.Core.Changes;
using Shortener.Core.Common;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// A shard's newest changes as its replica applied them, in memory: what the change feed and the
/// sinks read first, so an event is readable the moment its command applied rather than when the
/// node's database next commits (every 100 ms). Bounded: it holds the last
/// <see cref="RecentLog{TKey, TItem}.Capacity"/> changes and covers every change after
/// <see cref="CoveredAfter"/>; a reader from an older position reads the committed <c>changes</c>
/// table instead. Written from the driver's thread, in log order; read from any thread.
/// </summary>
public sealed class ChangeTail(int shard, ulong appliedIndex, int capacity = ChangeTail.DefaultCapacity)
{
    public const int DefaultCapacity = 8192;

    private readonly RecentLog<ChangeOffset, LinkChange> _log = new(capacity, Boundary(shard, appliedIndex));
    private readonly Lock _purge = new();
    private ChangeOffset? _purgedThrough;

    /// <summary>Every change after this offset is in the tail.</summary>
    public ChangeOffset CoveredAfter => _log.CoveredAfter;

    /// <summary>Completes when the next change arrives (or a snapshot replaced the shard's state).</summary>
    public Task WhenChangedAsync() => _log.WhenChangedAsync();

    /// <summary>Takes the changes of an applied batch (driver thread, log order), and notes how far a purge in it forgot changes.</summary>
    public void Append(IReadOnlyList<BatchItemResult> results)
    {
        _log.Append(results.Where(r => r.Change is not null).Select(r => (r.Change!.Offset, r.Change)));
        foreach (var result in results)
        {
            if (result.Result?.ChangesPurgedThrough is { } through)
            {
                lock (_purge)
                {
                    _purgedThrough = through;
                }
            }
        }
    }

    /// <summary>Forgets everything: a snapshot through <paramref name="appliedIndex"/> replaced the shard's rows (its changes are in the database).</summary>
    public void Reset(ulong appliedIndex) => _log.Reset(Boundary(shard, appliedIndex));

    /// <summary>
    /// Up to <paramref name="limit"/> changes after <paramref name="after"/>, in offset order, if the
    /// tail covers that position (false: read the database). No position (from the oldest kept) is
    /// never covered.
    /// </summary>
    public bool TryRead(ChangeOffset? after, int limit, out IReadOnlyList<LinkChange> changes)
    {
        // A position a purge went past is answered by the database, which says it expired.
        ChangeOffset? purged;
        lock (_purge)
        {
            purged = _purgedThrough;
        }

        if (after is { } from && !(purged is { } through && from.CompareTo(through) < 0))
        {
            return _log.TryRead(from, limit, out changes);
        }

        changes = [];
        return false;
    }

    /// <summary>The offset after every change of entries through <paramref name="index"/>.</summary>
    private static ChangeOffset Boundary(int shard, ulong index) => new(shard, index, int.MaxValue);
}
