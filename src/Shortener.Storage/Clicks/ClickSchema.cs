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
    ];
}
