using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Links;

/// <summary>The versioned schema of a link database. Append new migrations; never edit a released one.</summary>
public static class LinkSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "links, tags, idempotency, meta, api keys", """
            CREATE TABLE meta (
                key   TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE links (
                code            TEXT PRIMARY KEY,
                url             TEXT NOT NULL,
                created_at      INTEGER NOT NULL,
                updated_at      INTEGER NOT NULL,
                expires_at      INTEGER,
                max_visits      INTEGER,
                visits          INTEGER NOT NULL DEFAULT 0,
                redirect_status INTEGER NOT NULL,
                tags            TEXT NOT NULL DEFAULT '[]',
                title           TEXT,
                deleted         INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;
            CREATE INDEX links_newest ON links (created_at DESC, code DESC) WHERE deleted = 0;
            CREATE TABLE link_tags (
                tag        TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                code       TEXT NOT NULL,
                PRIMARY KEY (tag, created_at, code)
            ) WITHOUT ROWID;
            CREATE TABLE idempotency (
                scope        TEXT NOT NULL,
                key          TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                result       TEXT NOT NULL,
                created_at   INTEGER NOT NULL,
                PRIMARY KEY (scope, key)
            ) WITHOUT ROWID;
            CREATE INDEX idempotency_age ON idempotency (created_at);
            CREATE TABLE api_keys (
                id         TEXT PRIMARY KEY,
                hash       TEXT NOT NULL UNIQUE,
                source     TEXT NOT NULL,
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """),
        new(2, "proposals applied, so a re-proposed command applies once", """
            CREATE TABLE applied_proposals (
                proposer INTEGER NOT NULL,
                id       INTEGER NOT NULL,
                at       INTEGER NOT NULL,
                result   TEXT,
                PRIMARY KEY (proposer, id)
            ) WITHOUT ROWID;
            CREATE INDEX applied_proposals_age ON applied_proposals (at)
            """),
        new(3, "API keys live in the node's own database", "DROP TABLE IF EXISTS api_keys"),
    ];
}
