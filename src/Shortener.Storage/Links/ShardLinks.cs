using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// One shard's rows in the node's <see cref="SqliteLinkStore"/>, for readers on any thread: a link
/// by code as the replica applied it (committed or still held), everything else as the database
/// last committed it (<see cref="WhenCommittedAsync"/> first, to see every apply already answered).
/// </summary>
public sealed class ShardLinks(SqliteLinkStore store, int shard, ChangeTail tail)
{
    public int Shard => shard;

    /// <summary>The shard's newest changes as applied, committed or not (what followers of the feed wait on).</summary>
    public ChangeTail Tail => tail;

    public Link? Get(string code) => store.Get(shard, code);

    public LinkPage List(int limit, LinkCursor? after, string? tag, string? owner = null) => store.List(shard, limit, after, tag, owner);

    public LinkQueryPage Query(LinkQuery query, int take) => store.Query(shard, query, take);

    public IReadOnlyList<(string Tag, int Links)> TagCounts(string? owner) => store.TagCounts(shard, owner);

    /// <summary>Kept changes after <paramref name="after"/>, and the offset they were purged through (committed rows).</summary>
    public (IReadOnlyList<Core.Changes.LinkChange> Changes, Core.Changes.ChangeOffset? PurgedThrough) Changes(Core.Changes.ChangeOffset? after, int limit) =>
        store.Changes(shard, after, limit);

    /// <summary>
    /// Changes after <paramref name="after"/> as applied: from the <see cref="Tail"/> when it covers
    /// the position (the newest, not yet committed, included), otherwise the committed rows once
    /// what was applied so far is committed. Purged through is null when the tail answered.
    /// </summary>
    public async ValueTask<(IReadOnlyList<Core.Changes.LinkChange> Changes, Core.Changes.ChangeOffset? PurgedThrough)> ReadChangesAsync(Core.Changes.ChangeOffset? after, int limit)
    {
        if (tail.TryRead(after, limit, out var recent))
        {
            return (recent, null);
        }

        await store.WhenCommittedAsync().ConfigureAwait(false);
        return store.Changes(shard, after, limit);
    }

    /// <summary>The shard's live links as of one committed apply, and that apply's index (call <see cref="WhenCommittedAsync"/> first).</summary>
    public LinkScan ScanLinks() => store.ScanLinks(shard);

    /// <summary>Completes once what the node's replicas applied so far is committed (for every shard: they share the database).</summary>
    public Task WhenCommittedAsync() => store.WhenCommittedAsync();

    public IdempotencyRecord? FindIdempotency(string scope, string key) => store.FindIdempotency(shard, scope, key);

    public string? GetMeta(string key) => store.GetMeta(shard, key);

    /// <summary>The applied index as committed.</summary>
    public ulong AppliedIndex => store.AppliedIndexOf(shard);

    /// <summary>How many kept changes lie after <paramref name="after"/> (up to <paramref name="cap"/>) and the oldest one's time, as committed.</summary>
    public (int Count, long? OldestAtMs) Backlog(Core.Changes.ChangeOffset? after, int cap) => store.Backlog(shard, after, cap);

    /// <summary>The newest kept change made before <paramref name="atMs"/>, as committed (<see cref="WhenCommittedAsync"/> first).</summary>
    public Core.Changes.ChangeOffset? LastChangeBefore(long atMs) => store.LastChangeBefore(shard, atMs);

    /// <summary>The shard's document <paramref name="name"/> as committed (a lease: <see cref="Core.Leases.Lease.KeyOf"/>).</summary>
    public (long Version, string Document)? Document(string name) => store.Document(shard, name);

    /// <summary>The intents transactions hold in this shard, as committed (up to <paramref name="limit"/>, by code).</summary>
    public IReadOnlyList<Core.Transactions.Intent> Intents(int limit) =>
        [.. store.Documents(shard, Core.Transactions.Intent.KeyOf(string.Empty), limit).Select(d => Core.Transactions.Intent.Parse(d.Document))];

    /// <summary>The cluster document <paramref name="name"/> shard 0 holds (null in other shards).</summary>
    public (long Version, string Document)? ClusterDocument(string name) => shard == 0 ? store.ClusterDocument(name) : null;
}
