using Shortener.Core.Changes;
using Shortener.Node.Shards;

namespace Shortener.Node.Changes;

/// <summary>A consumer's position is older than what a shard still keeps: events were lost to it.</summary>
public sealed class ChangesExpiredException(int shard, ChangeOffset purgedThrough)
    : Exception($"shard {shard} keeps its changes after {purgedThrough.Id} only; this position is older: read the current links again (snapshot=initial, as a stream) and follow the feed from there")
{
    public int Shard { get; } = shard;
}

/// <summary>One page of the change feed: its events, in log order per shard, and the position to ask from next.</summary>
public sealed record ChangePage(IReadOnlyList<LinkChange> Changes, ChangePosition Next);

/// <summary>
/// The change feed as this node's replicas hold it (docs/cdc.md): every shard's kept changes after a
/// consumer's position, merged by time into one page while each shard's stay in log order.
/// Reads each shard's newest changes from its tail in memory, older ones from the committed rows.
/// </summary>
public sealed class ChangeFeed(ShardHost shards)
{
    public const int MaxLimit = 1000;

    /// <summary>Completes when any shard applies a change (take it before reading, so nothing slips between).</summary>
    public Task WhenChangedAsync() => Task.WhenAny(shards.Replicas.Select(r => r.Links.Tail.WhenChangedAsync()));

    public async Task<ChangePage> ReadAsync(ChangePosition position, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        var perShard = new List<Queue<LinkChange>>();
        foreach (var replica in shards.Replicas)
        {
            var after = position.Of(replica.Shard);
            var (changes, purged) = await replica.Links.ReadChangesAsync(after, limit).ConfigureAwait(false);
            if (after is { } held && purged is { } through && held.CompareTo(through) < 0)
            {
                throw new ChangesExpiredException(replica.Shard, through);
            }

            perShard.Add(new Queue<LinkChange>(changes));
        }

        // Oldest head first: one page across shards, each shard's events in their order.
        var page = new List<LinkChange>(limit);
        var next = position;
        while (page.Count < limit && perShard.Where(q => q.Count > 0).MinBy(q => (q.Peek().AtMs, q.Peek().Offset.Shard)) is { } oldest)
        {
            var change = oldest.Dequeue();
            page.Add(change);
            next = next.After(change.Offset);
        }

        return new ChangePage(page, next);
    }
}
