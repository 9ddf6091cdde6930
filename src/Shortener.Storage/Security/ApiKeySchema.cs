using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Security;

/// <summary>
/// The versioned schema of a node's own database (node.db), which holds API key hashes. Until
/// version 3 that file was a whole link database of which only the key table was used; the
/// numbering carries on from it, so such a file is migrated in place. Append new migrations; never
/// edit a released one.
/// </summary>
public static class ApiKeySchema
{
    private const string KeyTable = """
        CREATE TABLE IF NOT EXISTS api_keys (
            id         TEXT PRIMARY KEY,
            hash       TEXT NOT NULL UNIQUE,
            source     TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """;

    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "api keys", KeyTable),
        new(2, "api keys (a link database's version 2 added nothing here)", KeyTable),
        new(3, "the link tables a node database used to carry are dropped", """
            DROP TABLE IF EXISTS applied_proposals;
            DROP TABLE IF EXISTS idempotency;
            DROP TABLE IF EXISTS link_tags;
            DROP TABLE IF EXISTS links;
            DROP TABLE IF EXISTS meta
            """),
    ];
}
