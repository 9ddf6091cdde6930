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
    private const string EventColumns = "id, code, at, hlc, kind, referrer, country";

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private SqliteCommand? _insert;
    private SqliteCommand? _replace;

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
            // A batch of clicks dirties a page of the index per link it touches: room for large batches, and fewer checkpoints.
            Execute(connection, "PRAGMA cache_size = -65536");
            Execute(connection, "PRAGMA wal_autocheckpoint = 4000");
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

    /// <summary>Stores the events not stored yet, in one transaction; returns how many were new.</summary>
    public int Add(IReadOnlyList<ClickEvent> events)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            var insert = Prepared(ref _insert, """
                INSERT OR IGNORE INTO clicks (id, ring, code, day, kind, id_hash, content, at, hlc, referrer, country)
                VALUES ($id, $ring, $code, $day, $kind, $idHash, $content, $at, $hlc, $referrer, $country)
                """);
            // Two versions of one id (only a bug or a damaged copy makes them): the one with the
            // lower content hash wins everywhere, so replicas converge instead of repairing forever.
            var replace = Prepared(ref _replace, """
                UPDATE clicks SET ring = $ring, code = $code, day = $day, kind = $kind, content = $content, at = $at, hlc = $hlc,
                    referrer = $referrer, country = $country
                WHERE id = $id AND content > $content
                """);
            insert.Transaction = transaction;
            replace.Transaction = transaction;
            var added = 0;
            Span<byte> id = stackalloc byte[16];
            foreach (var e in events)
            {
                e.Id.TryWriteBytes(id, bigEndian: true, out _);
                var values = new object?[]
                {
                    id.ToArray(), ToSigned(HashRing.KeyHash(e.Code)), e.Code, e.Day, (int)e.Kind, ToSigned(ClickHashes.IdHash(e.Id)),
                    ToSigned(ClickHashes.ContentHash(e)), e.AtMs, (long)e.Hlc.Pack(), (object?)e.Referrer ?? DBNull.Value, (object?)e.Country ?? DBNull.Value,
                };
                Bind(insert, values);
                if (insert.ExecuteNonQuery() == 1)
                {
                    added++;
                    continue;
                }

                Bind(replace, values);
                replace.ExecuteNonQuery();
            }

            transaction.Commit();
            insert.Transaction = null;
            replace.Transaction = null;
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
                command.CommandText = "SELECT count(*) FROM clicks";
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
            using (var command = OfLink(code, fromDay, toDay, "SELECT day, sum(kind = 0), sum(kind = 1) FROM clicks {0} GROUP BY day ORDER BY day"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    days.Add(new ClickDay(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            var referrers = new List<ReferrerCount>();
            using (var command = OfLink(code, fromDay, toDay, "SELECT referrer, count(*) FROM clicks {0} AND kind = 0 AND referrer IS NOT NULL GROUP BY referrer ORDER BY count(*) DESC, referrer LIMIT $top"))
            {
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
            using var command = OfLink(code, fromDay, toDay, "SELECT id_hash, content FROM clicks {0}");
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
            using var command = OfLink(code, fromDay, toDay, $"SELECT {EventColumns} FROM clicks {{0}}");
            return ReadEvents(command);
        }
    }

    public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT code, sum(kind = 0), sum(kind = 1) FROM clicks WHERE day BETWEEN $from AND $to GROUP BY code ORDER BY code";
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
    /// Merkle tree of the range is built from. Read from the covering index alone.
    /// </summary>
    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to)
    {
        lock (_lock)
        {
            using var command = InRange(from, to, "SELECT id_hash, content FROM clicks INDEXED BY clicks_by_ring WHERE {0}");
            using var reader = command.ExecuteReader();
            var digests = new List<(ulong, ulong)>();
            while (reader.Read())
            {
                digests.Add((FromSigned(reader.GetInt64(0)), FromSigned(reader.GetInt64(1))));
            }

            return digests;
        }
    }

    /// <summary>The events in the ring range [<paramref name="from"/>, <paramref name="to"/>) with these id hashes (what a repair streams after a Merkle comparison).</summary>
    public IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IEnumerable<ulong> idHashes)
    {
        var wanted = idHashes.Select(ToSigned).ToHashSet();
        if (wanted.Count == 0)
        {
            return [];
        }

        lock (_lock)
        {
            // The ids wanted from the covering index (its entries hold the table's key), then their rows.
            var ids = new List<byte[]>();
            using (var command = InRange(from, to, "SELECT id, id_hash FROM clicks INDEXED BY clicks_by_ring WHERE {0}"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    if (wanted.Contains(reader.GetInt64(1)))
                    {
                        ids.Add((byte[])reader[0]);
                    }
                }
            }

            using var fetch = _connection.CreateCommand();
            fetch.CommandText = $"SELECT {EventColumns} FROM clicks WHERE id = $id";
            var id = fetch.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
            var events = new List<ClickEvent>(ids.Count);
            foreach (var key in ids)
            {
                id.Value = key;
                events.AddRange(ReadEvents(fetch));
            }

            return events;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _insert?.Dispose();
            _replace?.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>A command kept for the connection's life (prepared once, not per batch), with one parameter per name in its SQL.</summary>
    private SqliteCommand Prepared(ref SqliteCommand? command, string sql)
    {
        if (command is null)
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in new[] { "$id", "$ring", "$code", "$day", "$kind", "$idHash", "$content", "$at", "$hlc", "$referrer", "$country" })
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
        }

        return command;
    }

    private static void Bind(SqliteCommand command, object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }

    /// <summary>A command over one link's clicks in a range of days: <paramref name="sql"/> with {0} where the WHERE clause goes.</summary>
    private SqliteCommand OfLink(string code, int fromDay, int toDay, string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, "WHERE ring = $ring AND code = $code AND day BETWEEN $from AND $to");
        command.Parameters.AddWithValue("$ring", ToSigned(HashRing.KeyHash(code)));
        command.Parameters.AddWithValue("$code", code);
        command.Parameters.AddWithValue("$from", fromDay);
        command.Parameters.AddWithValue("$to", toDay);
        return command;
    }

    /// <summary>A command over a ring range [from, to), wrapping past zero when from ≥ to.</summary>
    private SqliteCommand InRange(ulong from, ulong to, string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, from < to ? "ring >= $from AND ring < $to" : "(ring >= $from OR ring < $to)");
        command.Parameters.AddWithValue("$from", ToSigned(from));
        command.Parameters.AddWithValue("$to", ToSigned(to));
        return command;
    }

    private static List<ClickEvent> ReadEvents(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var events = new List<ClickEvent>();
        while (reader.Read())
        {
            events.Add(Read(reader));
        }

        return events;
    }

    private static ClickEvent Read(SqliteDataReader reader) => new(
        new Guid((byte[])reader[0], bigEndian: true),
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
