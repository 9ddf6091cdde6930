using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Storage.Links;

/// <summary>
/// A link shard's state machine on one node: its <see cref="SqliteLinkStore"/>, which a snapshot
/// install replaces with another. Readers on other threads take a <see cref="StoreLease"/> on the
/// store of the moment; the replacement waits until the leases on the old store are returned (a
/// connection to the old file closing after the swap would checkpoint into, and delete, the new
/// file's WAL) and holds new readers for that moment only, so no reader ever meets a closed store.
/// The store runs synchronous=NORMAL: the shard's Raft log is the durable record and replays what
/// the database lost in a power failure.
/// </summary>
public sealed class SqliteLinkStateMachine : IReplicatedStateMachine<BatchItemResult>, IDisposable
{
    private readonly object _gate = new();
    private SqliteLinkStore _store;
    private ulong _applied;
    private int _leases;
    private bool _swapping;
    private bool _disposed;

    private SqliteLinkStateMachine(SqliteLinkStore store)
    {
        _store = store;
        _applied = store.AppliedIndex;
    }

    public string Path => _store.Path;

    public ulong AppliedIndex => Volatile.Read(ref _applied);

    /// <summary>Called on the driver's thread after each applied batch, in log order: the commands and their results.</summary>
    public Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> Applied { get; set; } = (_, _) => { };

    /// <summary>Called on the driver's thread after a snapshot replaced the state (caches of it are stale).</summary>
    public Action Restored { get; set; } = () => { };

    public static SqliteLinkStateMachine Open(string path) => new(SqliteLinkStore.Open(path, synchronousFull: false));

    /// <summary>The store as of now, kept open until the lease is disposed. Waits (briefly) while a snapshot install swaps stores.</summary>
    public StoreLease Lease()
    {
        lock (_gate)
        {
            while (_swapping && !_disposed)
            {
                Monitor.Wait(_gate);
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            _leases++;
            return new StoreLease(this, _store);
        }
    }

    public IReadOnlyList<BatchItemResult> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
    {
        var (envelopes, ids) = LinkBatch.Decode(commands);

        var results = _store.ApplyBatch(envelopes, appliedThrough, ids);
        Volatile.Write(ref _applied, appliedThrough);
        Applied(envelopes, results);
        return results;
    }

    /// <summary>The work copies the database through a reader connection of its own (VACUUM INTO), so applies go on meanwhile.</summary>
    public Func<CapturedSnapshot> PrepareSnapshot() => () =>
    {
        using var lease = Lease();
        var (index, data) = lease.Store.ExportSnapshot();
        return new CapturedSnapshot(index, data);
    };

    /// <summary>
    /// Replaces the database with <paramref name="snapshot"/>. The slow part (writing and fsyncing
    /// the new file) happens while the old store still serves reads; they then wait only for the
    /// close, rename and open.
    /// </summary>
    public void Restore(RaftSnapshot snapshot)
    {
        var path = _store.Path;
        var staged = snapshot.Data.Length == 0 ? null : SqliteLinkStore.StageSnapshot(path, snapshot.Data);
        lock (_gate)
        {
            _swapping = true;
            while (_leases > 0)
            {
                Monitor.Wait(_gate);
            }
        }

        try
        {
            _store.Dispose();
            if (staged is null)
            {
                // The bootstrap snapshot: an empty state machine.
                File.Delete(path);
                File.Delete(path + "-wal");
                File.Delete(path + "-shm");
            }
            else
            {
                SqliteLinkStore.SwapInSnapshot(path, staged);
            }

            _store = SqliteLinkStore.Open(path, synchronousFull: false, check: false);
            if (_store.AppliedIndex != snapshot.Metadata.Index)
            {
                _store.ApplyBatch([], snapshot.Metadata.Index);
            }

            Volatile.Write(ref _applied, snapshot.Metadata.Index);
        }
        finally
        {
            lock (_gate)
            {
                _swapping = false;
                Monitor.PulseAll(_gate);
            }
        }

        Restored();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _swapping = true;
            while (_leases > 0)
            {
                Monitor.Wait(_gate);
            }
        }

        _store.Dispose();
    }

    private void Release()
    {
        lock (_gate)
        {
            if (--_leases == 0 && _swapping)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>A reader's hold on the store of the moment; dispose it when the read is done.</summary>
    public readonly struct StoreLease : IDisposable
    {
        private readonly SqliteLinkStateMachine _owner;

        internal StoreLease(SqliteLinkStateMachine owner, SqliteLinkStore store)
        {
            _owner = owner;
            Store = store;
        }

        public SqliteLinkStore Store { get; }

        public void Dispose() => _owner?.Release();
    }
}
