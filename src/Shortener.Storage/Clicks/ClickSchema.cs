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

        // Ingest cost again: the covering index took the clicks in ring order, so each batch dirtied
        // a page of it per click once it outgrew the batch, and a replica's insert cost grew with its
        // size (15 to 25 µs a click over 800,000 clicks). Now clicks are only appended: to the table
        // (time-ordered key) and to an index by (day, one of 16 ring buckets), whose entries, in key
        // order within a bucket, append too. What was read from the covering index is read from daily
        // counters per link, which triggers keep in step with the table: counts, the fingerprint (the
        // sum of the clicks' Merkle digests, kept as two sums of 32-bit halves so SQLite's integers
        // never overflow) and referrers. A link's clicks of a day are found through the day index.
        new(3, "daily counters per link kept by triggers; clicks appended, found by day and ring bucket", """
            ALTER TABLE clicks ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE clicks ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
            UPDATE clicks SET bucket = (((ring >> 60) & 15) + 8) % 16;
            DROP INDEX clicks_by_ring;
            CREATE INDEX clicks_by_day ON clicks (day, bucket);
            CREATE TABLE click_days (
                ring        INTEGER NOT NULL,
                code        TEXT NOT NULL,
                day         INTEGER NOT NULL,
                human       INTEGER NOT NULL,
                bots        INTEGER NOT NULL,
                digest_low  INTEGER NOT NULL,
                digest_high INTEGER NOT NULL,
                PRIMARY KEY (ring, code, day)
            ) WITHOUT ROWID;
            CREATE TABLE click_referrers (
                ring     INTEGER NOT NULL,
                code     TEXT NOT NULL,
                day      INTEGER NOT NULL,
                referrer TEXT NOT NULL,
                clicks   INTEGER NOT NULL,
                PRIMARY KEY (ring, code, day, referrer)
            ) WITHOUT ROWID
            """, ClickStore.CountExistingClicks),

        // Sealed days: once a day is past the seal horizon, each link's clicks of it are folded into
        // a record of G-counters per origin node (the versions of the replicas that sealed it, as
        // dotted version vectors) and deleted, which bounds the store. Clicks now carry the node
        // that recorded them (0 for those stored before).
        new(4, "sealed days: per-origin counters in versioned records instead of the clicks", """
            ALTER TABLE clicks ADD COLUMN origin INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX click_days_by_day ON click_days (day);
            CREATE TABLE sealed_days (
                ring    INTEGER NOT NULL,
                code    TEXT NOT NULL,
                day     INTEGER NOT NULL,
                human   INTEGER NOT NULL,
                bots    INTEGER NOT NULL,
                hash    INTEGER NOT NULL,
                record  BLOB NOT NULL,
                PRIMARY KEY (ring, code, day)
            ) WITHOUT ROWID;
            CREATE INDEX sealed_days_by_day ON sealed_days (day)
            """),
    ];
}
