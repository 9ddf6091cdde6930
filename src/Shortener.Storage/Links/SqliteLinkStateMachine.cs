using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Storage.Links;

/// <summary>
/// A link shard's state machine on one node: the shard's rows in the node's
/// <see cref="SqliteLinkStore"/>, which holds every shard. With the store's
/// <see cref="SqliteLinkStore.HoldCommits"/> on, an apply joins the transaction the node commits
/// on a size or time bound; readers (<see cref="Links"/>) see a link by code as soon as it is
/// applied, and other rows as committed. A snapshot is the shard's rows copied out; installing
/// one replaces them in one transaction. The store runs synchronous=NORMAL: the Raft log is the
/// durable record and replays what the database lost in a power failure.
/// </summary>
public sealed class SqliteLinkStateMachine : IReplicatedStateMachine<BatchItemResult>, IDisposable
{
    private readonly SqliteLinkStore _store;
    private readonly bool _ownsStore;
    private ulong _applied;

    /// <summary>Shard <paramref name="shard"/> of the node's <paramref name="store"/> (which the caller keeps and disposes).</summary>
    public SqliteLinkStateMachine(SqliteLinkStore store, int shard)
        : this(store, shard, ownsStore: false)
    {
    }

    private SqliteLinkStateMachine(SqliteLinkStore store, int shard, bool ownsStore)
    {
        _store = store;
        _ownsStore = ownsStore;
        Shard = shard;
        _applied = store.AppliedIndexOf(shard);
        Links = new ShardLinks(store, shard, new ChangeTail(shard, _applied));
    }

    public int Shard { get; }

    /// <summary>The shard's rows, for readers on any thread.</summary>
    public ShardLinks Links { get; }

    public ulong AppliedIndex => Volatile.Read(ref _applied);

    /// <summary>Called on the driver's thread after each applied batch, in log order: the commands and their results.</summary>
    public Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> Applied { get; set; } = (_, _) => { };

    /// <summary>Called on the driver's thread after a snapshot replaced the state (caches of it are stale).</summary>
    public Action Restored { get; set; } = () => { };

    /// <summary>A shard alone in a store of its own at <paramref name="path"/> (shard 0, committing each apply), for tests and tools.</summary>
    public static SqliteLinkStateMachine Open(string path) => new(SqliteLinkStore.Open(path, synchronousFull: false), 0, ownsStore: true);

    public IReadOnlyList<BatchItemResult> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
    {
        var (envelopes, ids, entries) = LinkBatch.Decode(commands);
        var results = _store.ApplyBatch(Shard, envelopes, appliedThrough, ids, entries);
        Volatile.Write(ref _applied, appliedThrough);
        Links.Tail.Append(results);
        Applied(envelopes, results);
        return results;
    }

    /// <summary>
    /// The work copies the shard's committed rows through a reader connection of its own, so applies
    /// go on meanwhile. It first has the held applies committed (the host runs it off the driver's
    /// thread, which does that commit), so the snapshot covers at least what was applied when it
    /// was asked for, and compaction keeps pace with the applied index rather than the last commit.
    /// </summary>
    public Func<CapturedSnapshot> PrepareSnapshot() => () =>
    {
        _store.WhenCommittedAsync().GetAwaiter().GetResult();
        var (index, data) = _store.ExportSnapshot(Shard);
        return new CapturedSnapshot(index, data);
    };

    /// <summary>Replaces the shard's rows with <paramref name="snapshot"/> (empty for the bootstrap snapshot), in one transaction.</summary>
    public void Restore(RaftSnapshot snapshot)
    {
        _store.RestoreSnapshot(Shard, snapshot.Data, snapshot.Metadata.Index);
        Volatile.Write(ref _applied, snapshot.Metadata.Index);
        Links.Tail.Reset(snapshot.Metadata.Index);
        Restored();
    }

    public void Dispose()
    {
        if (_ownsStore)
        {
            _store.Dispose();
        }
    }
}
