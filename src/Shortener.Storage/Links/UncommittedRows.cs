using System.Collections.Concurrent;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// The rows a node's held transaction wrote and has not yet committed that readers look up by key:
/// links by (shard, code) and idempotency records by (shard, scope, key). It is the in-memory view
/// that lets a reader see an apply at once although the database commits only on a size or time
/// bound (etcd keeps its index in memory the same way, ahead of its backend's batched commit). A
/// command's writes are staged and published when the command's savepoint is released, so a
/// command the data refused and rolled back never shows. The writer (one thread, under the store's
/// write lock) stages, publishes and clears; readers on any thread look up. Cleared once the
/// transaction committed: from then on the database has every row it held. Its size is bounded by
/// the commands one commit may hold.
/// </summary>
internal sealed class UncommittedRows
{
    private readonly ConcurrentDictionary<(int Shard, string Code), Link> _links = new();
    private readonly ConcurrentDictionary<(int Shard, string Scope, string Key), IdempotencyRecord> _idempotency = new();
    private readonly List<(int Shard, Link? Link, IdempotencyRecord? Record)> _staged = [];

    /// <summary>A link written by the command in progress.</summary>
    public void Stage(int shard, Link link) => _staged.Add((shard, link, null));

    /// <summary>An idempotency record written by the command in progress.</summary>
    public void Stage(int shard, IdempotencyRecord record) => _staged.Add((shard, null, record));

    /// <summary>The command's savepoint was released: its writes become visible.</summary>
    public void Publish()
    {
        foreach (var (shard, link, record) in _staged)
        {
            if (link is not null)
            {
                _links[(shard, link.Code)] = link;
            }

            if (record is not null)
            {
                _idempotency[(shard, record.Scope, record.Key)] = record;
            }
        }

        _staged.Clear();
    }

    /// <summary>The command was rolled back: its writes never happened.</summary>
    public void Drop() => _staged.Clear();

    public bool TryGet(int shard, string code, out Link link) => _links.TryGetValue((shard, code), out link!);

    public bool TryGet(int shard, string scope, string key, out IdempotencyRecord record) =>
        _idempotency.TryGetValue((shard, scope, key), out record!);

    /// <summary>The transaction committed: the database answers now.</summary>
    public void Clear()
    {
        _staged.Clear();
        _links.Clear();
        _idempotency.Clear();
    }
}
