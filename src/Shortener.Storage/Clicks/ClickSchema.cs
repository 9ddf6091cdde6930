using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Clicks;

/// <summary>The versioned schema of a node's click database. Append new migrations; never edit a released one.</summary>
public static class ClickSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "click events, deduplicated by id, placed on the ring by their link", """
            CREATE TABLE click_events (
                id        BLOB PRIMARY KEY,
                id_hash   INTEGER NOT NULL,
                ring      INTEGER NOT NULL,
                code      TEXT NOT NULL,
                day       INTEGER NOT NULL,
                at        INTEGER NOT NULL,
                hlc       INTEGER NOT NULL,
                kind      INTEGER NOT NULL,
                referrer  TEXT,
                country   TEXT,
                content   INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX click_events_link_day ON click_events (code, day);
            CREATE INDEX click_events_ring ON click_events (ring);
            CREATE INDEX click_events_id_hash ON click_events (id_hash)
            """),

        // Ingest cost: version 1's random-order key and three secondary indexes dirtied about four
        // random pages per click. Now the key is the id in big-endian byte order (time-ordered for
        // the version-7 ids the redirect path makes, so inserts append) and one covering index on
        // the ring position serves range scans, a link's lookups (its code's ring position first)
        // and fingerprints without touching the table.
        new(2, "clicks keyed by time-ordered id, one covering index by ring position and link", """
            CREATE TABLE clicks (
                id        BLOB PRIMARY KEY,
                ring      INTEGER NOT NULL,
                code      TEXT NOT NULL,
                day       INTEGER NOT NULL,
                kind      INTEGER NOT NULL,
                id_hash   INTEGER NOT NULL,
                content   INTEGER NOT NULL,
                at        INTEGER NOT NULL,
                hlc       INTEGER NOT NULL,
                referrer  TEXT,
                country   TEXT
            ) WITHOUT ROWID;
            INSERT INTO clicks (id, ring, code, day, kind, id_hash, content, at, hlc, referrer, country)
                SELECT CAST(substr(id, 4, 1) || substr(id, 3, 1) || substr(id, 2, 1) || substr(id, 1, 1) || substr(id, 6, 1) || substr(id, 5, 1)
                            || substr(id, 8, 1) || substr(id, 7, 1) || substr(id, 9, 8) AS BLOB),
                       ring, code, day, kind, id_hash, content, at, hlc, referrer, country
                FROM click_events;
            DROP TABLE click_events;
            CREATE INDEX clicks_by_ring ON clicks (ring, code, day, kind, id_hash, content)
            """),
    ];
}
