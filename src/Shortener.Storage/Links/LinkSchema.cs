using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Links;

/// <summary>
/// The versioned schema of a node's link database (shards.db): every shard's rows in one file,
/// keyed by shard first, so one transaction holds the applies of all the node's shards and a
/// shard's rows are one range to export or replace. Append new migrations; never edit a released
/// one. (Before it, each shard had a links.db of its own; a data dir of that layout is refused.)
/// </summary>
public static class LinkSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "every shard's links, tags, idempotency records, applied proposals and meta", """
            CREATE TABLE meta (
                shard INTEGER NOT NULL,
                key   TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (shard, key)
            ) WITHOUT ROWID;
            CREATE TABLE links (
                shard           INTEGER NOT NULL,
                code            TEXT NOT NULL,
                url             TEXT NOT NULL,
                created_at      INTEGER NOT NULL,
                updated_at      INTEGER NOT NULL,
                expires_at      INTEGER,
                max_visits      INTEGER,
                visits          INTEGER NOT NULL DEFAULT 0,
                redirect_status INTEGER NOT NULL,
                tags            TEXT NOT NULL DEFAULT '[]',
                title           TEXT,
                deleted         INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (shard, code)
            ) WITHOUT ROWID;
            CREATE INDEX links_newest ON links (shard, created_at DESC, code DESC) WHERE deleted = 0;
            CREATE TABLE link_tags (
                shard      INTEGER NOT NULL,
                tag        TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                code       TEXT NOT NULL,
                PRIMARY KEY (shard, tag, created_at, code)
            ) WITHOUT ROWID;
            CREATE TABLE idempotency (
                shard        INTEGER NOT NULL,
                scope        TEXT NOT NULL,
                key          TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                result       TEXT NOT NULL,
                created_at   INTEGER NOT NULL,
                PRIMARY KEY (shard, scope, key)
            ) WITHOUT ROWID;
            CREATE INDEX idempotency_age ON idempotency (shard, created_at);
            CREATE TABLE applied_proposals (
                shard    INTEGER NOT NULL,
                proposer INTEGER NOT NULL,
                id       INTEGER NOT NULL,
                at       INTEGER NOT NULL,
                result   TEXT,
                PRIMARY KEY (shard, proposer, id)
            ) WITHOUT ROWID;
            CREATE INDEX applied_proposals_age ON applied_proposals (shard, at)
            """),
        new(2, "Shlink's link fields: valid since, crawlable, forward query; the owner of the key that made it; an index for owners' lists", """
            ALTER TABLE links ADD COLUMN valid_since INTEGER;
            ALTER TABLE links ADD COLUMN crawlable INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE links ADD COLUMN forward_query INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE links ADD COLUMN owner TEXT;
            CREATE INDEX links_owner ON links (shard, owner, created_at DESC, code DESC) WHERE deleted = 0 AND owner IS NOT NULL
            """),
        new(3, "the change events each shard keeps for the change feed", """
            CREATE TABLE changes (
                shard    INTEGER NOT NULL,
                idx      INTEGER NOT NULL,
                position INTEGER NOT NULL,
                term     INTEGER NOT NULL,
                op       TEXT NOT NULL,
                before   TEXT,
                after    TEXT,
                at_ms    INTEGER NOT NULL,
                hlc      TEXT NOT NULL,
                PRIMARY KEY (shard, idx, position)
            ) WITHOUT ROWID
            """),
    ];

    /// <summary>The tables that hold a shard's rows, in the order a snapshot copies them.</summary>
    public static IReadOnlyList<string> ShardTables { get; } = ["meta", "links", "link_tags", "idempotency", "applied_proposals", "changes"];
}
