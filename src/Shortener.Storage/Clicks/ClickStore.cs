using Microsoft.Data.Sqlite;
using Shortener.Core;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Quorum;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Clicks;

/// <summary>
/// One node's replica of the click store (the AP side: every node holds the clicks of the links
/// the ring gives it). Events are kept whole and deduplicated by id, so a click delivered twice (a
/// relay's retry, a hint replayed, a repair) counts once: exactly once in effect. Counts are
/// derived from the events. Each event sits on the ring at its link's position, so a token range
/// can be listed for anti-entropy (<see cref="Digests"/>) and its missing events fetched by id
/// hash (<see cref="Get"/>). Writes commit in one transaction per batch.
/// </summary>
public sealed class ClickStore : IClickReplicaStore, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    private ClickStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    public static ClickStore Open(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL");
            // The events' own redundancy (N replicas, hints, anti-entropy) covers a lost last commit.
            Execute(connection, "PRAGMA synchronous = NORMAL");
            using (var check = connection.CreateCommand())
            {
                check.CommandText = "PRAGMA quick_check";
                var verdict = check.ExecuteScalar() as string;
                if (verdict != "ok")
                {
                    throw new StorageException($"click database {path} failed its integrity check: {verdict}. Move it aside to start empty; anti-entropy refills it from the other replicas.");
                }
            }

            SchemaMigrator.Migrate(connection, ClickSchema.Migrations, path);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StorageException($"cannot open click database {path}: {e.Message}. If the file is damaged, move it aside to start empty; anti-entropy refills it from the other replicas.", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new ClickStore(connection, path);
    }

    /// <summary>A 64-bit hash of an event id: the key of the event in Merkle trees.</summary>
    public static ulong IdHash(Guid id) => ClickHashes.IdHash(id);

    /// <summary>A hash of what an event says (its value in Merkle trees, stored with it).</summary>
    public static ulong ContentHash(ClickEvent e) => ClickHashes.ContentHash(e);

    /// <summary>Stores the events not stored yet, in one transaction; returns how many were new.</summary>
    public int Add(IReadOnlyList<ClickEvent> events)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT OR IGNORE INTO click_events (id, id_hash, ring, code, day, at, hlc, kind, referrer, country, content)
                VALUES ($id, $idHash, $ring, $code, $day, $at, $hlc, $kind, $referrer, $country, $content)
                """;
            var p = new[] { "$id", "$idHash", "$ring", "$code", "$day", "$at", "$hlc", "$kind", "$referrer", "$country", "$content" }
                .Select(name => insert.Parameters.Add(new SqliteParameter { ParameterName = name }))
                .ToArray();

            // Two versions of one id (only a bug or a damaged copy makes them): the one with the
            // lower content hash wins everywhere, so replicas converge instead of repairing forever.
            using var replace = _connection.CreateCommand();
            replace.Transaction = transaction;
            replace.CommandText = """
                UPDATE click_events SET code = $code, ring = $ring, day = $day, at = $at, hlc = $hlc, kind = $kind,
                    referrer = $referrer, country = $country, content = $content
                WHERE id = $id AND content > $content
                """;
            foreach (var name in new[] { "$id", "$ring", "$code", "$day", "$at", "$hlc", "$kind", "$referrer", "$country", "$content" })
            {
                replace.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            var added = 0;
            foreach (var e in events)
            {
                p[0].Value = e.Id.ToByteArray();
                p[1].Value = ToSigned(IdHash(e.Id));
                p[2].Value = ToSigned(HashRing.KeyHash(e.Code));
                p[3].Value = e.Code;
                p[4].Value = e.Day;
                p[5].Value = e.AtMs;
                p[6].Value = (long)e.Hlc.Pack();
                p[7].Value = (int)e.Kind;
                p[8].Value = (object?)e.Referrer ?? DBNull.Value;
                p[9].Value = (object?)e.Country ?? DBNull.Value;
                p[10].Value = ToSigned(ContentHash(e));
                if (insert.ExecuteNonQuery() == 1)
                {
                    added++;
                    continue;
                }

                foreach (SqliteParameter parameter in replace.Parameters)
                {
                    parameter.Value = p.First(x => x.ParameterName == parameter.ParameterName).Value;
                }

                replace.ExecuteNonQuery();
            }

            transaction.Commit();
            return added;
        }
    }

    public long Count
    {
        get
        {
            lock (_lock)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT count(*) FROM click_events";
                return (long)command.ExecuteScalar()!;
            }
        }
    }

    /// <summary>A link's clicks from day <paramref name="fromDay"/> to <paramref name="toDay"/> (inclusive), per day, and its top referrers.</summary>
    public ClickStats Stats(string code, int fromDay, int toDay, int topReferrers = 10)
    {
        lock (_lock)
        {
            var days = new List<ClickDay>();
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT day, sum(kind = 0), sum(kind = 1) FROM click_events
                    WHERE code = $code AND day BETWEEN $from AND $to GROUP BY day ORDER BY day
                    """;
                command.Parameters.AddWithValue("$code", code);
                command.Parameters.AddWithValue("$from", fromDay);
                command.Parameters.AddWithValue("$to", toDay);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    days.Add(new ClickDay(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            var referrers = new List<ReferrerCount>();
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT referrer, count(*) FROM click_events
                    WHERE code = $code AND day BETWEEN $from AND $to AND referrer IS NOT NULL AND kind = 0
                    GROUP BY referrer ORDER BY count(*) DESC, referrer LIMIT $top
                    """;
                command.Parameters.AddWithValue("$code", code);
                command.Parameters.AddWithValue("$from", fromDay);
                command.Parameters.AddWithValue("$to", toDay);
                command.Parameters.AddWithValue("$top", topReferrers);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    referrers.Add(new ReferrerCount(reader.GetString(0), reader.GetInt64(1)));
                }
            }

            var human = days.Sum(d => d.Human);
            var bots = days.Sum(d => d.Bots);
            return new ClickStats(code, human + bots, human, bots, days, referrers);
        }
    }

    public (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id_hash, content FROM click_events WHERE code = $code AND day BETWEEN $from AND $to";
            command.Parameters.AddWithValue("$code", code);
            command.Parameters.AddWithValue("$from", fromDay);
            command.Parameters.AddWithValue("$to", toDay);
            using var reader = command.ExecuteReader();
            var digests = new List<(ulong, ulong)>();
            while (reader.Read())
            {
                digests.Add((FromSigned(reader.GetInt64(0)), FromSigned(reader.GetInt64(1))));
            }

            return (digests.Count, ClickAggregation.Fingerprint(digests));
        }
    }

    public IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, code, at, hlc, kind, referrer, country FROM click_events WHERE code = $code AND day BETWEEN $from AND $to";
            command.Parameters.AddWithValue("$code", code);
            command.Parameters.AddWithValue("$from", fromDay);
            command.Parameters.AddWithValue("$to", toDay);
            using var reader = command.ExecuteReader();
            var events = new List<ClickEvent>();
            while (reader.Read())
            {
                events.Add(Read(reader));
            }

            return events;
        }
    }

    public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT code, sum(kind = 0), sum(kind = 1) FROM click_events WHERE day BETWEEN $from AND $to GROUP BY code ORDER BY code";
            command.Parameters.AddWithValue("$from", fromDay);
            command.Parameters.AddWithValue("$to", toDay);
            using var reader = command.ExecuteReader();
            var totals = new List<ClickTotals>();
            while (reader.Read())
            {
                totals.Add(new ClickTotals(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
            }

            return totals;
        }
    }

    /// <summary>
    /// (id hash, content hash) of every event whose link lies in the ring range
    /// [<paramref name="from"/>, <paramref name="to"/>) (wrapping past zero when from ≥ to): what a
    /// Merkle tree of the range is built from.
    /// </summary>
    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = from < to
                ? "SELECT id_hash, content FROM click_events WHERE ring >= $from AND ring < $to"
                : "SELECT id_hash, content FROM click_events WHERE ring >= $from OR ring < $to";
            command.Parameters.AddWithValue("$from", ToSigned(from));
            command.Parameters.AddWithValue("$to", ToSigned(to));
            using var reader = command.ExecuteReader();
            var digests = new List<(ulong, ulong)>();
            while (reader.Read())
            {
                digests.Add((FromSigned(reader.GetInt64(0)), FromSigned(reader.GetInt64(1))));
            }

            return digests;
        }
    }

    /// <summary>The events with these id hashes (what a repair streams after a Merkle comparison).</summary>
    public IReadOnlyList<ClickEvent> Get(IEnumerable<ulong> idHashes)
    {
        lock (_lock)
        {
            var events = new List<ClickEvent>();
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, code, at, hlc, kind, referrer, country FROM click_events WHERE id_hash = $h";
            var parameter = command.Parameters.Add(new SqliteParameter { ParameterName = "$h" });
            foreach (var hash in idHashes)
            {
                parameter.Value = ToSigned(hash);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    events.Add(Read(reader));
                }
            }

            return events;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _connection.Dispose();
        }
    }

    private static ClickEvent Read(SqliteDataReader reader) => new(
        new Guid((byte[])reader[0]),
        reader.GetString(1),
        reader.GetInt64(2),
        HlcTimestamp.Unpack((ulong)reader.GetInt64(3)),
        (ClickKind)reader.GetInt32(4),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetString(6));

    /// <summary>An unsigned ring position as a signed SQLite integer, order kept (the top bit flipped).</summary>
    private static long ToSigned(ulong value) => (long)(value ^ 0x8000000000000000UL);

    private static ulong FromSigned(long value) => (ulong)value ^ 0x8000000000000000UL;

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
