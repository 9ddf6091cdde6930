using Microsoft.Data.Sqlite;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Security;

/// <summary>
/// A node's API key hashes, in its own SQLite database (synchronous=FULL: a key that was stored
/// stays stored). Keys are few and read once at start, so one connection serves both ways.
/// </summary>
public sealed class ApiKeyStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private bool _disposed;

    private ApiKeyStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    public string Path { get; }

    public static ApiKeyStore Open(string path)
    {
        var connection = SqliteDatabase.Open(
            new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString(),
            path,
            "node",
            "restore it from a backup or move it aside (the node then generates a new API key)",
            ["PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 5000"],
            ApiKeySchema.Migrations);
        return new ApiKeyStore(path, connection);
    }

    public IReadOnlyList<StoredApiKey> Keys()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, hash, source, created_at FROM api_keys ORDER BY created_at";
            using var reader = command.ExecuteReader();
            var keys = new List<StoredApiKey>();
            while (reader.Read())
            {
                keys.Add(new StoredApiKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
            }

            return keys;
        }
    }

    /// <summary>Stores a key's hash; a key already stored (same id or hash) is left as it is.</summary>
    public void Add(StoredApiKey key)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (id, hash, source, created_at) VALUES ($id, $hash, $source, $at) ON CONFLICT DO NOTHING";
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$hash", key.Hash);
            command.Parameters.AddWithValue("$source", key.Source);
            command.Parameters.AddWithValue("$at", key.CreatedAt);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// True when the database file is still where it was opened and answers a query: used by
    /// readiness checks. (An open connection keeps working on a file that was deleted or whose
    /// directory vanished, so the query alone would say yes while nothing reaches the disk.)
    /// </summary>
    public bool Ping()
    {
        lock (_lock)
        {
            if (_disposed || !File.Exists(Path))
            {
                return false;
            }

            try
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT count(*) FROM api_keys";
                command.ExecuteScalar();
                return true;
            }
            catch (SqliteException)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection.Dispose();
        }
    }
}
