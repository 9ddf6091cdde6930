using Microsoft.Data.Sqlite;
using Shortener.Storage.Links;
using Shortener.Storage.Security;

namespace Shortener.Storage.Tests.Security;

public sealed class ApiKeyStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_key_keeps_its_first_value_and_survives_a_reopen()
    {
        var path = _dir.File("node.db");
        using (var store = ApiKeyStore.Open(path))
        {
            store.Add(new StoredApiKey("id1", "hash1", "generated", 1));
            store.Add(new StoredApiKey("id1", "hash2", "generated", 2));
            Assert.True(store.Ping());
        }

        using var reopened = ApiKeyStore.Open(path);
        Assert.Equal(["hash1"], reopened.Keys().Select(k => k.Hash));
    }

    [Fact]
    public void A_node_database_from_before_keeps_its_keys_and_loses_the_link_tables_it_never_used()
    {
        // Until now node.db was a whole link database (of schema version 2: no change table yet), with the keys in one of its tables.
        var path = _dir.File("node.db");
        using (var legacy = SqliteLinkStore.Open(path))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 2; DROP TABLE IF EXISTS changes; CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, source TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID; INSERT INTO api_keys VALUES ('generated-1', 'h1', 'generated', 5)";
            command.ExecuteNonQuery();
        }

        using (var store = ApiKeyStore.Open(path))
        {
            Assert.Equal(["h1"], store.Keys().Select(k => k.Hash));
        }

        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var tables = check.CreateCommand();
        tables.CommandText = "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'";
        Assert.Equal("api_keys", tables.ExecuteScalar());
    }

    [Fact]
    public void A_damaged_file_is_refused_with_its_name()
    {
        var path = _dir.File("node.db");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0x42, 10_000).ToArray());
        var error = Assert.Throws<StorageException>(() => ApiKeyStore.Open(path));
        Assert.Contains("node.db", error.Message);
    }
}
