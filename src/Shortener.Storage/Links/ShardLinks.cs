using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// One shard's committed rows in the node's <see cref="SqliteLinkStore"/>, for readers on any
/// thread: what a replica has applied and the round's commit has made durable in the database.
/// </summary>
public sealed class ShardLinks(SqliteLinkStore store, int shard)
{
    public int Shard => shard;

    public Link? Get(string code) => store.Get(shard, code);

    public LinkPage List(int limit, LinkCursor? after, string? tag) => store.List(shard, limit, after, tag);

    public IdempotencyRecord? FindIdempotency(string scope, string key) => store.FindIdempotency(shard, scope, key);

    public string? GetMeta(string key) => store.GetMeta(shard, key);

    /// <summary>The applied index as committed.</summary>
    public ulong AppliedIndex => store.AppliedIndexOf(shard);

    /// <summary>The member list shard 0 holds (null in other shards).</summary>
    public (long Version, string Document)? ClusterMembers() => shard == 0 ? store.ClusterMembers() : null;
}
