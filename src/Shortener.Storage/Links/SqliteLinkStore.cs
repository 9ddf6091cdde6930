using Microsoft.Data.Sqlite;
using Shortener.Core.Links;
using Shortener.Core.Replication;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Links;

/// <summary>
/// A node's link database (shards.db): every shard's rows in one SQLite file in WAL mode, keyed by
/// shard. Standing alone (tests, tools) it runs synchronous=FULL, so a command that returned is on
/// disk; as the node's shard state it runs synchronous=NORMAL, since the Raft log is the durable
/// record and replays what the database lost (<see cref="Open"/>). Writes go through one
/// connection; with <see cref="HoldCommits"/> the applies of all shards join one transaction that
/// stays open until <see cref="CommitHeld"/> (which the node's driver calls on a size or time
/// bound: etcd's batched backend commit), so many rounds' commands share their pages and one
/// commit. Reads use their own pooled connections and never wait for the writer; a link by code
/// and an idempotency record by key are read from what the held transaction wrote first, so they
/// are seen as soon as they are applied; lists and meta values are read as committed
/// (<see cref="WhenCommittedAsync"/> asks for a commit and waits for it).
/// </summary>
public sealed partial class SqliteLinkStore : IHeldTransaction, IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteLinkTable _table;
    private readonly Lock _writeLock = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<LinkLookup> _linkReaders = [];
    private readonly UncommittedRows _uncommitted = new();
    private TaskCompletionSource? _commitWaiters;
    private WalCheckpointer? _checkpointer;
    private SqliteTransaction? _held;
    private Exception? _heldLost;
    private int _activeReaders;
    private volatile bool _disposed;

    private SqliteLinkStore(string path, SqliteConnection writer, string connectionString)
    {
        Path = path;
        _writer = writer;
        _connectionString = connectionString;
        _table = new SqliteLinkTable(writer);
    }

    public string Path { get; }

    /// <summary>The meta key holding the Raft log index a shard has applied through.</summary>
    public const string AppliedIndexKey = "raft_applied";

    /// <summary>
    /// Applies join one open transaction, committed by <see cref="CommitHeld"/>, instead of
    /// committing each batch; the links they write are readable by code at once. Set by a node
    /// whose Raft log replays whatever a crash took from the held transaction.
    /// </summary>
    public bool HoldCommits
    {
        get => _table.Uncommitted is not null;
        set => _table.Uncommitted = value ? _uncommitted : null;
    }

    /// <summary>Transactions committed (for metrics and the benchmark).</summary>
    public long Commits { get; private set; }

    /// <inheritdoc/>
    public int HeldApplies { get; private set; }

    /// <inheritdoc/>
    public bool Holding => Volatile.Read(ref _held) is not null;

    /// <inheritdoc/>
    public bool CommitWanted => Volatile.Read(ref _commitWaiters) is not null;

    /// <summary>Checkpoints the background checkpointer ran (0 without one).</summary>
    public long Checkpoints => _checkpointer?.Checkpoints ?? 0;

    /// <summary>Times the writer started the WAL over (0 without a background checkpointer).</summary>
    public long WalRestarts => _checkpointer?.Restarts ?? 0;

    /// <summary>What a restarted WAL file is cut back to: the size it restarts at, so a busy log is reused, not cut and grown again.</summary>
    private const long JournalSizeLimitBytes = WalCheckpointer.RestartFrames * 4096L;

    /// <summary>
    /// Moves WAL checkpoints off the writer: automatic checkpoints off, and a
    /// <see cref="WalCheckpointer"/> copies the WAL back every <paramref name="interval"/>; the
    /// writer starts the log over once it passes <paramref name="restartFrames"/> pages.
    /// </summary>
    public void CheckpointInBackground(TimeSpan interval, int restartFrames = WalCheckpointer.RestartFrames)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_checkpointer is not null)
            {
                return;
            }

            SqliteDatabase.Execute(_writer, null, "PRAGMA wal_autocheckpoint = 0");

            // When the writer restarts the log (WalCheckpointer.AfterCommit), the file is cut back to this.
            SqliteDatabase.Execute(_writer, null, $"PRAGMA journal_size_limit = {JournalSizeLimitBytes}");
            _checkpointer = new WalCheckpointer(_connectionString, interval, restartFrames);
        }
    }

    /// <summary>Called (on the asking thread) when a reader wants the held applies committed: wakes whoever commits them.</summary>
    public Action CommitRequested { get; set; } = () => { };

    /// <param name="path">The database file.</param>
    /// <param name="synchronousFull">
    /// fsync every commit (the default, for a store that is its own source of truth). A node's
    /// shard state passes false: its Raft log is the durable record and replays whatever the
    /// database lost, so the database only needs to stay consistent (synchronous=NORMAL).
    /// </param>
    /// <param name="check">Run <c>PRAGMA quick_check</c> first.</param>
    public static SqliteLinkStore Open(string path, bool synchronousFull = true, bool check = true)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        var writer = SqliteDatabase.Open(
            connectionString,
            path,
            "link",
            "restore it from a backup or move it aside to start empty",
            [synchronousFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000"],
            LinkSchema.Migrations,
            check);
        return new SqliteLinkStore(path, writer, connectionString);
    }

    /// <summary>Applies one command on its own to shard 0 (a store that is its own source of truth); throws if it failed.</summary>
    public CommandResult Apply(LinkCommandEnvelope envelope)
    {
        var result = ApplyBatch([envelope])[0];
        return result.Error is { } error ? throw new StorageException($"applying the command failed: {error.Message}", error) : result.Result!;
    }

    /// <summary>
    /// Applies commands to shard 0 in order in one transaction. Each command runs in its own
    /// savepoint: one that throws is rolled back alone and reported in its slot; the rest commit.
    /// </summary>
    public IReadOnlyList<BatchItemResult> ApplyBatch(IReadOnlyList<LinkCommandEnvelope> envelopes) => ApplyBatch(0, envelopes, null);

    /// <summary>As <see cref="ApplyBatch(int, IReadOnlyList{LinkCommandEnvelope}, ulong?, IReadOnlyList{ProposalId}?)"/> for shard 0.</summary>
    public IReadOnlyList<BatchItemResult> ApplyBatch(IReadOnlyList<LinkCommandEnvelope> envelopes, ulong? appliedIndex, IReadOnlyList<ProposalId>? proposals = null) =>
        ApplyBatch(0, envelopes, appliedIndex, proposals);

    /// <summary>
    /// Applies commands to <paramref name="shard"/> in order, and records in the same transaction
    /// that its log is applied through <paramref name="appliedIndex"/>, so after a crash the
    /// shard's rows and its applied index agree and replay resumes exactly after it. With
    /// <paramref name="proposals"/> (one per envelope), a proposal applied before is skipped as a
    /// duplicate (its first result is returned): a proposer may propose the same command again
    /// when it cannot tell whether a leader change lost it, and it must still apply once.
    /// Replicated (an applied index given), only errors that every replica would meet alike become
    /// a command's result: the state machine's own refusals and constraint violations. Anything
    /// else (I/O, a full disk, a busy database) throws and commits nothing (with
    /// <see cref="HoldCommits"/>, nothing of the held transaction: <see cref="CommitHeld"/> then
    /// throws too), so the replica stops rather than silently skip a command the others applied.
    /// </summary>
    public IReadOnlyList<BatchItemResult> ApplyBatch(int shard, IReadOnlyList<LinkCommandEnvelope> envelopes, ulong? appliedIndex, IReadOnlyList<ProposalId>? proposals = null, IReadOnlyList<LogEntryStamp>? entries = null)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_heldLost is not null)
            {
                throw new StorageException($"the node's link database lost a held transaction ({_heldLost.Message})", _heldLost);
            }

            var transaction = _held ?? _writer.BeginTransaction(deferred: false);
            _table.Transaction = transaction;
            _table.Shard = shard;
            try
            {
                var results = LinkBatch.Apply(_table, envelopes, proposals, e => IsDeterministic(e, replicated: appliedIndex is not null), shard, entries);
                if (appliedIndex is { } index)
                {
                    SetMeta(shard, AppliedIndexKey, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                if (HoldCommits)
                {
                    _held = transaction;
                    HeldApplies += envelopes.Count;
                }
                else
                {
                    transaction.Commit();
                    transaction.Dispose();
                    Commits++;
                    _checkpointer?.AfterCommit(_writer);
                }

                return results;
            }
            catch (Exception e)
            {
                // Rolled back whole: with held commits that includes other shards' applies, which
                // CommitHeld then reports lost so their replicas stop too. The links those applies
                // wrote stay readable by code: they are applied (the log holds them, and a restart
                // applies them again), only not in the database.
                _uncommitted.Drop();
                transaction.Dispose();
                if (_held is not null)
                {
                    _held = null;
                    _heldLost = e;
                }

                throw;
            }
            finally
            {
                _table.Transaction = null;
            }
        }
    }

    /// <summary>
    /// Commits the transaction the applies joined (nothing held: nothing to do). Throws if an
    /// apply failed and rolled it back: every shard that applied since the last commit lost it.
    /// </summary>
    public void CommitHeld()
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            CommitHeldLocked();
        }
    }

    /// <summary>
    /// Completes once the applies held now are committed (at once when none are), for a reader
    /// of committed rows that must see what was already answered; asks for the commit
    /// (<see cref="CommitRequested"/>) rather than wait for the bound.
    /// </summary>
    public Task WhenCommittedAsync()
    {
        Task waiting;
        lock (_writeLock)
        {
            if (_held is null || _disposed)
            {
                return Task.CompletedTask;
            }

            _commitWaiters ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting = _commitWaiters.Task;
        }

        CommitRequested();
        return waiting;
    }

    /// <summary>SQLITE_CONSTRAINT: the data, not the machine, refused the write.</summary>
    private const int SqliteConstraint = 19;

    private static bool IsDeterministic(Exception e, bool replicated) => e switch
    {
        InvalidOperationException or System.Text.Json.JsonException => true,
        SqliteException sqlite => !replicated || sqlite.SqliteErrorCode == SqliteConstraint,
        _ => false,
    };

    /// <summary>The Raft log index shard 0 has applied through (0 when it never applied one).</summary>
    public ulong AppliedIndex => AppliedIndexOf(0);

    /// <summary>The Raft log index <paramref name="shard"/> has applied through, as committed (0 when it never applied one).</summary>
    public ulong AppliedIndexOf(int shard) => GetMeta(shard, AppliedIndexKey) is { } text ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;

    private void SetMeta(int shard, string key, string value) => _table.Execute(
        "INSERT INTO meta (shard, key, value) VALUES ($shard, $key, $value) ON CONFLICT (shard, key) DO UPDATE SET value = excluded.value",
        ("$key", key),
        ("$value", value));

    private void CommitHeldLocked()
    {
        try
        {
            if (_heldLost is { } lost)
            {
                _heldLost = null;
                throw new StorageException($"applies held for one commit in {Path} were rolled back: {lost.Message}", lost);
            }

            if (_held is { } held)
            {
                _held = null;
                held.Commit();
                held.Dispose();
                Commits++;
                _checkpointer?.AfterCommit(_writer);

                // Only now: a reader that misses here finds the row in the database.
                _uncommitted.Clear();
            }
        }
        finally
        {
            // Committed or lost, the waiters read what the database has.
            HeldApplies = 0;
            _commitWaiters?.TrySetResult();
            _commitWaiters = null;
        }
    }

    /// <summary>A link of shard 0 by code.</summary>
    public Link? Get(string code) => Get(0, code);

    /// <summary>
    /// One link by code: the hot read (redirect cache misses, API reads). Served by a pool of open
    /// connections each holding its prepared statement, so a read costs neither an open nor a parse.
    /// </summary>
    public Link? Get(int shard, string code)
    {
        if (_uncommitted.TryGet(shard, code, out var applied))
        {
            return applied;
        }

        EnterRead();
        try
        {
            if (!_linkReaders.TryTake(out var lookup))
            {
                var connection = new SqliteConnection(_connectionString);
                connection.Open();
                lookup = new LinkLookup(connection);
            }

            try
            {
                var link = lookup.Find(shard, code);
                _linkReaders.Add(lookup);
                return link;
            }
            catch
            {
                lookup.Dispose();
                throw;
            }
        }
        finally
        {
            ExitRead();
        }
    }

    /// <summary>Live (not deleted) links of shard 0, newest first.</summary>
    public LinkPage List(int limit, LinkCursor? after, string? tag) => List(0, limit, after, tag);

    /// <summary>
    /// Live (not deleted) links of <paramref name="shard"/>, newest first, optionally only those
    /// with <paramref name="tag"/> and only those of <paramref name="owner"/>.
    /// </summary>
    public LinkPage List(int shard, int limit, LinkCursor? after, string? tag, string? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var lease = OpenReader();
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        var columns = string.Join(", ", SqliteLinkTable.SelectColumns.Split(", ").Select(c => "l." + c));
        var keyset = tag is null ? "l" : "k";
        var position = (after is null ? string.Empty : $"AND ({keyset}.created_at < $c OR ({keyset}.created_at = $c AND {keyset}.code < $code))")
            + (owner is null ? string.Empty : " AND l.owner = $owner");
        command.CommandText = tag is null
            ? $"SELECT {columns} FROM links l WHERE l.shard = $shard AND l.deleted = 0 {position} ORDER BY l.created_at DESC, l.code DESC LIMIT $n"
            : $"SELECT {columns} FROM link_tags k JOIN links l ON l.shard = k.shard AND l.code = k.code WHERE k.shard = $shard AND k.tag = $tag AND l.deleted = 0 {position} ORDER BY k.created_at DESC, k.code DESC LIMIT $n";
        command.Parameters.AddWithValue("$n", limit + 1);
        command.Parameters.AddWithValue("$shard", shard);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("$c", cursor.CreatedAt);
            command.Parameters.AddWithValue("$code", cursor.Code);
        }

        if (tag is not null)
        {
            command.Parameters.AddWithValue("$tag", tag);
        }

        if (owner is not null)
        {
            command.Parameters.AddWithValue("$owner", owner);
        }

        var links = new List<Link>(limit + 1);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                links.Add(SqliteLinkTable.ReadLink(reader));
            }
        }

        if (links.Count <= limit)
        {
            return new LinkPage(links, null);
        }

        links.RemoveAt(limit);
        var last = links[^1];
        return new LinkPage(links, new LinkCursor(last.CreatedAt, last.Code));
    }

    /// <summary>The remembered result for an idempotency key of shard 0, if any.</summary>
    public IdempotencyRecord? FindIdempotency(string scope, string key) => FindIdempotency(0, scope, key);

    /// <summary>The remembered result for an idempotency key, if any (whatever its age), as soon as the command that wrote it is applied.</summary>
    public IdempotencyRecord? FindIdempotency(int shard, string scope, string key)
    {
        if (_uncommitted.TryGet(shard, scope, key, out var applied))
        {
            return applied;
        }

        using var lease = OpenReader();
        var connection = lease.Connection;
        using var table = new SqliteLinkTable(connection) { Shard = shard };
        return table.FindIdempotency(scope, key);
    }

    public string? GetMeta(int shard, string key)
    {
        using var lease = OpenReader();
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE shard = $shard AND key = $key";
        command.Parameters.AddWithValue("$shard", shard);
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>The cluster document <paramref name="name"/> as shard 0 last committed it (<see cref="ClusterDocumentNames"/>), or null.</summary>
    public (long Version, string Document)? ClusterDocument(string name) =>
        GetMeta(0, name) is { } text ? SqliteLinkTable.ParseDocument(text) : null;

    /// <summary>
    /// True when the database file is still where it was opened and answers a query: used by
    /// readiness checks. (An open connection keeps working on a file that was deleted or whose
    /// directory vanished, so the query alone would say yes while nothing reaches the disk.)
    /// </summary>
    public bool Ping()
    {
        if (_disposed || !File.Exists(Path))
        {
            return false;
        }

        try
        {
            using var lease = OpenReader();
            var connection = lease.Connection;
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM meta";
            command.ExecuteScalar();
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Interlocked.MemoryBarrier();
            _checkpointer?.Dispose();

            // Readers already inside finish first: a connection to this file closing after a
            // snapshot replaced it would checkpoint into, and delete, the new file's WAL.
            var wait = new SpinWait();
            while (Volatile.Read(ref _activeReaders) > 0)
            {
                wait.SpinOnce();
            }

            while (_linkReaders.TryTake(out var lookup))
            {
                lookup.Dispose();
            }

            // Applies held and not committed are dropped: the Raft log replays them.
            _held?.Dispose();
            _held = null;
            _commitWaiters?.TrySetResult();
            _commitWaiters = null;
            _table.Dispose();
            _writer.Dispose();
            SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        }
    }

    /// <summary>A pooled reader connection, counted as a reader until disposed (see <see cref="Dispose"/>).</summary>
    private ReaderLease OpenReader()
    {
        EnterRead();
        try
        {
            var connection = new SqliteConnection(_connectionString);
            connection.Open();
            return new ReaderLease(this, connection);
        }
        catch
        {
            ExitRead();
            throw;
        }
    }

    private void EnterRead()
    {
        Interlocked.Increment(ref _activeReaders);
        if (_disposed)
        {
            ExitRead();
            throw new ObjectDisposedException(nameof(SqliteLinkStore));
        }
    }

    private void ExitRead() => Interlocked.Decrement(ref _activeReaders);

    private readonly struct ReaderLease(SqliteLinkStore store, SqliteConnection connection) : IDisposable
    {
        public SqliteConnection Connection => connection;

        public void Dispose()
        {
            connection.Dispose();
            store.ExitRead();
        }
    }
}
