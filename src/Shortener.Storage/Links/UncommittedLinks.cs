using System.Collections.Concurrent;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// The links a node's held transaction wrote and has not yet committed, by (shard, code): the
/// in-memory view that lets a reader see an apply at once although the database commits only on
/// a size or time bound (etcd keeps its index in memory the same way, ahead of its backend's
/// batched commit). A command's writes are staged and published when the command's savepoint is
/// released, so a command the data refused and rolled back never shows. The writer (one thread,
/// under the store's write lock) stages, publishes and clears; readers on any thread look up.
/// Cleared once the transaction committed: from then on the database has every row it held.
/// </summary>
internal sealed class UncommittedLinks
{
    private readonly ConcurrentDictionary<(int Shard, string Code), Link> _links = new();
    private readonly List<(int Shard, Link Link)> _staged = [];

    public int Count => _links.Count;

    /// <summary>A write of the command in progress.</summary>
    public void Stage(int shard, Link link) => _staged.Add((shard, link));

    /// <summary>The command's savepoint was released: its writes become visible.</summary>
    public void Publish()
    {
        foreach (var (shard, link) in _staged)
        {
            _links[(shard, link.Code)] = link;
        }

        _staged.Clear();
    }

    /// <summary>The command was rolled back: its writes never happened.</summary>
    public void Drop() => _staged.Clear();

    public bool TryGet(int shard, string code, out Link link) => _links.TryGetValue((shard, code), out link!);

    /// <summary>The transaction committed (or a snapshot replaced the rows): the database answers now.</summary>
    public void Clear()
    {
        _staged.Clear();
        _links.Clear();
    }
}
