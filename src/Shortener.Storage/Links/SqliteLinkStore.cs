using Microsoft.Data.Sqlite;
using Shortener.Core.Links;
using Shortener.Core.Replication;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Links;

/// <summary>
/// A link database: SQLite in WAL mode. Standing alone (a node's own data) it runs
/// synchronous=FULL, so a command that returned is on disk; as a shard's state machine it runs
/// synchronous=NORMAL, since the shard's Raft log is the durable record and replays what the
/// database lost (<see cref="Open"/>). Writes go through one connection, one batch at a time
/// (<see cref="ApplyBatch(IReadOnlyList{LinkCommandEnvelope})"/> commits many commands in one
/// transaction); reads use their own pooled connections and never wait for writers.
/// </summary>
public sealed class SqliteLinkStore : IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteLinkTable _table;
    private readonly Lock _writeLock = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<LinkLookup> _linkReaders = [];
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

    /// <summary>The meta key holding the Raft log index the database has applied through.</summary>
    public const string AppliedIndexKey = "raft_applied";

    /// <param name="path">The database file.</param>
    /// <param name="synchronousFull">
    /// fsync every commit (the default, for a store that is its own source of truth). A shard's
    /// state machine passes false: its Raft WAL is the durable record and replays whatever the
    /// database lost, so the database only needs to stay consistent (synchronous=NORMAL).
    /// </param>
    /// <param name="check">Run <c>PRAGMA quick_check</c> first (skipped for a snapshot just written and checksummed).</param>
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

    /// <summary>Applies one command on its own (a store that is its own source of truth); throws if it failed.</summary>
    public CommandResult Apply(LinkCommandEnvelope envelope)
    {
        var result = ApplyBatch([envelope])[0];
        return result.Error is { } error ? throw new StorageException($"applying the command failed: {error.Message}", error) : result.Result!;
    }

    /// <summary>
    /// Applies commands in order in one transaction and one fsync. Each command runs in its own
    /// savepoint: one that throws is rolled back alone and reported in its slot; the rest commit.
    /// </summary>
    public IReadOnlyList<BatchItemResult> ApplyBatch(IReadOnlyList<LinkCommandEnvelope> envelopes) => ApplyBatch(envelopes, null);

    /// <summary>
    /// As <see cref="ApplyBatch(IReadOnlyList{LinkCommandEnvelope})"/>, and records in the same
    /// transaction that the log is applied through <paramref name="appliedIndex"/>, so after a crash
    /// the store and its applied index agree and replay resumes exactly after it. With
    /// <paramref name="proposals"/> (one per envelope), a proposal applied before is skipped as a
    /// duplicate (its first result is returned): a proposer may propose the same command again
    /// when it cannot tell whether a leader change lost it, and it must still apply once.
    /// Replicated (an applied index given), only errors that every replica would meet alike become
    /// a command's result: the state machine's own refusals and constraint violations. Anything
    /// else (I/O, a full disk, a busy database) throws and commits nothing, so this replica stops
    /// rather than silently skip a command the others applied.
    /// </summary>
    public IReadOnlyList<BatchItemResult> ApplyBatch(IReadOnlyList<LinkCommandEnvelope> envelopes, ulong? appliedIndex, IReadOnlyList<ProposalId>? proposals = null)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var transaction = _writer.BeginTransaction(deferred: false);
            _table.Transaction = transaction;
            try
            {
                var results = LinkBatch.Apply(_table, envelopes, proposals, e => IsDeterministic(e, replicated: appliedIndex is not null));
                if (appliedIndex is { } index)
                {
                    _table.Execute(
                        "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        ("$key", AppliedIndexKey),
                        ("$value", index.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }

                transaction.Commit();
                return results;
            }
            finally
            {
                _table.Transaction = null;
            }
        }
    }

    /// <summary>SQLITE_CONSTRAINT: the data, not the machine, refused the write.</summary>
    private const int SqliteConstraint = 19;

    private static bool IsDeterministic(Exception e, bool replicated) => e switch
    {
        InvalidOperationException or System.Text.Json.JsonException => true,
        SqliteException sqlite => !replicated || sqlite.SqliteErrorCode == SqliteConstraint,
        _ => false,
    };

    /// <summary>The Raft log index this store has applied through (0 when it never applied one).</summary>
    public ulong AppliedIndex => GetMeta(AppliedIndexKey) is { } text ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>
    /// A consistent copy of the whole database as bytes (VACUUM INTO, so compact and free of the
    /// WAL) and the applied index it holds. It reads through a connection of its own, so applies
    /// go on meanwhile; the copy is the database as of one committed apply.
    /// </summary>
    public (ulong AppliedIndex, byte[] Data) ExportSnapshot()
    {
        var copy = Path + ".snapshot-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var lease = OpenReader())
            {
                using var command = lease.Connection.CreateCommand();
                command.CommandText = "VACUUM INTO $path";
                command.Parameters.AddWithValue("$path", copy);
                command.ExecuteNonQuery();
            }

            ulong applied;
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT value FROM meta WHERE key = $key";
                command.Parameters.AddWithValue("$key", AppliedIndexKey);
                applied = command.ExecuteScalar() is string text ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;
            }

            return (applied, File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>
    /// Replaces the database at <paramref name="path"/> (which must not be open) with a snapshot from
    /// <see cref="ExportSnapshot"/>: written beside it, fsynced, then renamed over it, so a crash
    /// leaves either the old database or the new one.
    /// </summary>
    public static void ReplaceWithSnapshot(string path, byte[] snapshot) => SwapInSnapshot(path, StageSnapshot(path, snapshot));

    /// <summary>
    /// Step 1 of <see cref="ReplaceWithSnapshot"/>, while the old database may still be open and
    /// serving: writes the snapshot beside it and fsyncs it. Returns the staged file.
    /// </summary>
    public static string StageSnapshot(string path, byte[] snapshot)
    {
        var staged = path + ".incoming";
        using var file = new FileStream(staged, FileMode.Create, FileAccess.Write, FileShare.None);
        file.Write(snapshot);
        file.Flush(flushToDisk: true);
        return staged;
    }

    /// <summary>Step 2, once the old database is closed: renames the staged snapshot over it (quick).</summary>
    public static void SwapInSnapshot(string path, string staged)
    {
        File.Delete(path + "-wal");
        File.Delete(path + "-shm");
        File.Move(staged, path, overwrite: true);
        Raft.DirectorySync.Fsync(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
    }

    /// <summary>
    /// One link by code: the hot read (redirect cache misses, API reads). Served by a pool of open
    /// connections each holding its prepared statement, so a read costs neither an open nor a parse.
    /// </summary>
    public Link? Get(string code)
    {
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
                var link = lookup.Find(code);
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

    /// <summary>Live (not deleted) links, newest first, optionally only those with <paramref name="tag"/>.</summary>
    public LinkPage List(int limit, LinkCursor? after, string? tag)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var lease = OpenReader();
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        var columns = string.Join(", ", SqliteLinkTable.SelectColumns.Split(", ").Select(c => "l." + c));
        var keyset = tag is null ? "l" : "k";
        var position = after is null ? string.Empty : $"AND ({keyset}.created_at < $c OR ({keyset}.created_at = $c AND {keyset}.code < $code))";
        command.CommandText = tag is null
            ? $"SELECT {columns} FROM links l WHERE l.deleted = 0 {position} ORDER BY l.created_at DESC, l.code DESC LIMIT $n"
            : $"SELECT {columns} FROM link_tags k JOIN links l ON l.code = k.code WHERE k.tag = $tag AND l.deleted = 0 {position} ORDER BY k.created_at DESC, k.code DESC LIMIT $n";
        command.Parameters.AddWithValue("$n", limit + 1);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("$c", cursor.CreatedAt);
            command.Parameters.AddWithValue("$code", cursor.Code);
        }

        if (tag is not null)
        {
            command.Parameters.AddWithValue("$tag", tag);
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

    /// <summary>The remembered result for an idempotency key, if any (whatever its age).</summary>
    public IdempotencyRecord? FindIdempotency(string scope, string key)
    {
        using var lease = OpenReader();
        var connection = lease.Connection;
        using var table = new SqliteLinkTable(connection);
        return table.FindIdempotency(scope, key);
    }

    public string? GetMeta(string key)
    {
        using var lease = OpenReader();
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>The cluster's member list as last applied here (see <see cref="SetClusterMembers"/>), or null.</summary>
    public (long Version, string Document)? ClusterMembers() =>
        GetMeta("cluster_members") is { } text ? SqliteLinkTable.ParseMembers(text) : null;

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

    /// <summary>An open reader connection with its prepared lookup of one link.</summary>
    private sealed class LinkLookup : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _code;

        public LinkLookup(SqliteConnection connection)
        {
            _connection = connection;
            _command = connection.CreateCommand();
            _command.CommandText = $"SELECT {SqliteLinkTable.SelectColumns} FROM links WHERE code = $code";
            _code = _command.Parameters.Add("$code", SqliteType.Text);
        }

        public Link? Find(string code)
        {
            _code.Value = code;
            using var reader = _command.ExecuteReader();
            return reader.Read() ? SqliteLinkTable.ReadLink(reader) : null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}
