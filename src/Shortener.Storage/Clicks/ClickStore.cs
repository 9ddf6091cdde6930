using Microsoft.Data.Sqlite;
using Shortener.Core;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Merkle;
using Shortener.Core.Quorum;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Clicks;

/// <summary>
/// One node's replica of the click store (the AP side: every node holds the clicks of the links
/// the ring gives it). Events are kept whole and deduplicated by id, so a click delivered twice (a
/// relay's retry, a hint replayed, a repair) counts once: exactly once in effect. Each new event is
/// counted, in the same transaction (by triggers), into its link's daily counter (clicks, humans and bots, the
/// fingerprint of its clicks) and referrer counts, from which stats, fingerprints, totals and the
/// first tree of anti-entropy (<see cref="Digests"/>) are read; the clicks behind a day are found
/// through an index by day and ring bucket (<see cref="EventDigests"/>, <see cref="Get"/>).
/// Inserts only append, so ingest does not slow as the store grows. Writes commit in one
/// transaction per batch.
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

    /// <summary>
    /// Stores the events not stored yet, in one transaction (the triggers count each new one into
    /// its link's daily counter); returns how many were new.
    /// </summary>
    public int Add(IReadOnlyList<ClickEvent> events)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            var insert = Prepared(ref _insert, """
                INSERT OR IGNORE INTO clicks (id, ring, code, day, kind, id_hash, content, at, hlc, referrer, country, bucket, digest)
                VALUES ($id, $ring, $code, $day, $kind, $idHash, $content, $at, $hlc, $referrer, $country, $bucket, $digest)
                """);
            // Two versions of one id (only a bug or a damaged copy makes them): the one with the
            // lower content hash wins everywhere, so replicas converge instead of repairing forever
            // (the update trigger moves the counts from the old version to the new).
            var replace = Prepared(ref _replace, """
                UPDATE clicks SET ring = $ring, code = $code, day = $day, kind = $kind, content = $content, at = $at, hlc = $hlc,
                    referrer = $referrer, country = $country, bucket = $bucket, digest = $digest
                WHERE id = $id AND content > $content
                """);
            insert.Transaction = transaction;
            replace.Transaction = transaction;
            var added = 0;
            Span<byte> id = stackalloc byte[16];
            var values = new object?[EventParameters.Length];
            foreach (var e in events)
            {
                e.Id.TryWriteBytes(id, bigEndian: true, out _);
                var ring = HashRing.KeyHash(e.Code);
                var idHash = ClickHashes.IdHash(e.Id);
                var content = ClickHashes.ContentHash(e);
                values[0] = id.ToArray();
                values[1] = ToSigned(ring);
                values[2] = e.Code;
                values[3] = e.Day;
                values[4] = (int)e.Kind;
                values[5] = ToSigned(idHash);
                values[6] = ToSigned(content);
                values[7] = e.AtMs;
                values[8] = (long)e.Hlc.Pack();
                values[9] = (object?)e.Referrer ?? DBNull.Value;
                values[10] = (object?)e.Country ?? DBNull.Value;
                values[11] = Bucket(ring);
                values[12] = unchecked((long)MerkleTree.Digest(idHash, content));
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

    /// <summary>Clicks stored, from the daily counters.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT coalesce(sum(human + bots), 0) FROM click_days";
                return (long)command.ExecuteScalar()!;
            }
        }
    }

    /// <summary>A link's clicks from day <paramref name="fromDay"/> to <paramref name="toDay"/> (inclusive), per day, and its top referrers: read from its daily counters.</summary>
    public ClickStats Stats(string code, int fromDay, int toDay, int topReferrers = 10)
    {
        lock (_lock)
        {
            var days = new List<ClickDay>();
            using (var command = OfLink("click_days", code, fromDay, toDay, "SELECT day, human, bots FROM click_days {0} AND human + bots > 0 ORDER BY day"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    days.Add(new ClickDay(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            var referrers = new List<ReferrerCount>();
            using (var command = OfLink("click_referrers", code, fromDay, toDay,
                "SELECT referrer, sum(clicks) AS n FROM click_referrers {0} GROUP BY referrer HAVING n > 0 ORDER BY n DESC, referrer LIMIT $top"))
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
            using var command = OfLink("click_days", code, fromDay, toDay, "SELECT human + bots, digest_low, digest_high FROM click_days {0}");
            using var reader = command.ExecuteReader();
            var count = 0L;
            var fingerprint = 0UL;
            while (reader.Read())
            {
                count += reader.GetInt64(0);
                fingerprint += Sum(reader.GetInt64(1), reader.GetInt64(2));
            }

            return (count, fingerprint);
        }
    }

    /// <summary>A link's clicks in the days given (what a read repair merges), found through the day index.</summary>
    public IReadOnlyList<ClickEvent> Events(string code, int fromDay, int toDay)
    {
        lock (_lock)
        {
            var days = new List<int>();
            using (var command = OfLink("click_days", code, fromDay, toDay, "SELECT day FROM click_days {0} AND human + bots > 0"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    days.Add(reader.GetInt32(0));
                }
            }

            var events = new List<ClickEvent>();
            var codes = new HashSet<string>(StringComparer.Ordinal) { code };
            foreach (var day in days)
            {
                OfDay(day, Bucket(HashRing.KeyHash(code)), codes, reader => events.Add(Read(reader)));
            }

            return events;
        }
    }

    public IReadOnlyList<ClickTotals> Totals(int fromDay, int toDay)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT code, sum(human), sum(bots) FROM click_days WHERE day BETWEEN $from AND $to
                GROUP BY code HAVING sum(human + bots) > 0 ORDER BY code
                """;
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
    /// (day key, day value) of every daily counter whose link lies in the ring range
    /// [<paramref name="from"/>, <paramref name="to"/>) (wrapping past zero when from ≥ to): what the
    /// first Merkle tree of an exchange is built from. Reads the counters alone.
    /// </summary>
    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests(ulong from, ulong to)
    {
        lock (_lock)
        {
            using var command = InRange(from, to, "SELECT code, day, human, bots, digest_low, digest_high FROM click_days WHERE ({0}) AND human + bots > 0");
            using var reader = command.ExecuteReader();
            var digests = new List<(ulong, ulong)>();
            while (reader.Read())
            {
                digests.Add((ClickHashes.DayKey(reader.GetString(0), reader.GetInt32(1)), ClickHashes.DayValue(reader.GetInt64(2), reader.GetInt64(3), Sum(reader.GetInt64(4), reader.GetInt64(5)))));
            }

            return digests;
        }
    }

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        lock (_lock)
        {
            var digests = new List<(ulong, ulong)>();
            OfDays(from, to, days, reader => digests.Add((FromSigned(reader.GetInt64(7)), FromSigned(reader.GetInt64(8)))));
            return digests;
        }
    }

    /// <summary>The events behind these daily counters of the ring range with these id hashes (what a repair streams after a Merkle comparison).</summary>
    public IReadOnlyList<ClickEvent> Get(ulong from, ulong to, IReadOnlyCollection<ulong> days, IEnumerable<ulong> idHashes)
    {
        var wanted = idHashes.Select(ToSigned).ToHashSet();
        if (wanted.Count == 0)
        {
            return [];
        }

        lock (_lock)
        {
            var events = new List<ClickEvent>();
            OfDays(from, to, days, reader =>
            {
                if (wanted.Contains(reader.GetInt64(7)))
                {
                    events.Add(Read(reader));
                }
            });
            return events;
        }
    }

    /// <summary>
    /// Schema 3's own step: the Merkle digest of every click already stored (a hash SQL cannot
    /// compute), the daily counters of those clicks, counted once, and then the triggers that keep
    /// the counters in step with the table from here on.
    /// </summary>
    internal static void CountExistingClicks(SqliteConnection connection, SqliteTransaction transaction)
    {
        var digests = new List<(byte[] Id, long Digest)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, id_hash, content FROM clicks";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                digests.Add(((byte[])reader[0], unchecked((long)MerkleTree.Digest(FromSigned(reader.GetInt64(1)), FromSigned(reader.GetInt64(2))))));
            }
        }

        using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE clicks SET digest = $digest WHERE id = $id";
            var id = update.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
            var digest = update.Parameters.Add(new SqliteParameter { ParameterName = "$digest" });
            foreach (var (key, value) in digests)
            {
                id.Value = key;
                digest.Value = value;
                update.ExecuteNonQuery();
            }
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO click_days (ring, code, day, human, bots, digest_low, digest_high)
                SELECT ring, code, day, sum(kind = 0), sum(kind = 1), sum({Low("digest")}), sum({High("digest")}) FROM clicks GROUP BY ring, code, day;
            INSERT INTO click_referrers (ring, code, day, referrer, clicks)
                SELECT ring, code, day, referrer, count(*) FROM clicks WHERE kind = 0 AND referrer IS NOT NULL GROUP BY ring, code, day, referrer;
            CREATE TRIGGER clicks_counted AFTER INSERT ON clicks BEGIN
                {Count("new")}
            END;
            CREATE TRIGGER clicks_recounted AFTER UPDATE ON clicks BEGIN
                UPDATE click_days SET human = human - (old.kind = 0), bots = bots - (old.kind = 1),
                    digest_low = digest_low - {Low("old.digest")}, digest_high = digest_high - {High("old.digest")}
                    WHERE ring = old.ring AND code = old.code AND day = old.day;
                UPDATE click_referrers SET clicks = clicks - 1
                    WHERE old.kind = 0 AND ring = old.ring AND code = old.code AND day = old.day AND referrer = old.referrer;
                {Count("new")}
            END
            """;
        command.ExecuteNonQuery();

        static string Low(string digest) => $"({digest} & 4294967295)";
        static string High(string digest) => $"(({digest} >> 32) & 4294967295)";
        static string Count(string row) => $"""
            INSERT INTO click_days (ring, code, day, human, bots, digest_low, digest_high)
                    VALUES ({row}.ring, {row}.code, {row}.day, {row}.kind = 0, {row}.kind = 1, {Low(row + ".digest")}, {High(row + ".digest")})
                    ON CONFLICT (ring, code, day) DO UPDATE SET human = human + excluded.human, bots = bots + excluded.bots,
                        digest_low = digest_low + excluded.digest_low, digest_high = digest_high + excluded.digest_high;
                INSERT INTO click_referrers (ring, code, day, referrer, clicks)
                    SELECT {row}.ring, {row}.code, {row}.day, {row}.referrer, 1 WHERE {row}.kind = 0 AND {row}.referrer IS NOT NULL
                    ON CONFLICT (ring, code, day, referrer) DO UPDATE SET clicks = clicks + 1;
            """;
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

    private static readonly string[] EventParameters = ["$id", "$ring", "$code", "$day", "$kind", "$idHash", "$content", "$at", "$hlc", "$referrer", "$country", "$bucket", "$digest"];

    /// <summary>A command kept for the connection's life (prepared once, not per batch), with the event's parameters in order.</summary>
    private SqliteCommand Prepared(ref SqliteCommand? command, string sql)
    {
        if (command is null)
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in EventParameters)
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

    /// <summary>A command over one link's rows of a counter table in a range of days: <paramref name="sql"/> with {0} where the WHERE clause goes.</summary>
    private SqliteCommand OfLink(string table, string code, int fromDay, int toDay, string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, $"WHERE {table}.ring = $ring AND {table}.code = $code AND {table}.day BETWEEN $from AND $to");
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
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, from < to ? "ring >= $from AND ring < $to" : "ring >= $from OR ring < $to");
        command.Parameters.AddWithValue("$from", ToSigned(from));
        command.Parameters.AddWithValue("$to", ToSigned(to));
        return command;
    }

    /// <summary>
    /// Every stored click behind these daily counters (day keys) of the ring range, read through
    /// the day index: the counters name the links and days, then one scan of each (day, bucket)
    /// they fall in. The reader's columns: <see cref="EventColumns"/>, then id hash and content.
    /// </summary>
    private void OfDays(ulong from, ulong to, IReadOnlyCollection<ulong> days, Action<SqliteDataReader> each)
    {
        var wanted = days.ToHashSet();
        var groups = new Dictionary<(int Day, int Bucket), HashSet<string>>();
        using (var command = InRange(from, to, "SELECT code, day, ring FROM click_days WHERE {0}"))
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var (code, day) = (reader.GetString(0), reader.GetInt32(1));
                if (wanted.Contains(ClickHashes.DayKey(code, day)))
                {
                    var group = (day, Bucket(FromSigned(reader.GetInt64(2))));
                    if (!groups.TryGetValue(group, out var codes))
                    {
                        groups[group] = codes = new HashSet<string>(StringComparer.Ordinal);
                    }

                    codes.Add(code);
                }
            }
        }

        foreach (var ((day, bucket), codes) in groups)
        {
            OfDay(day, bucket, codes, each);
        }
    }

    /// <summary>The clicks of these links on one day in one ring bucket.</summary>
    private void OfDay(int day, int bucket, HashSet<string> codes, Action<SqliteDataReader> each)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {EventColumns}, id_hash, content FROM clicks INDEXED BY clicks_by_day WHERE day = $day AND bucket = $bucket";
        command.Parameters.AddWithValue("$day", day);
        command.Parameters.AddWithValue("$bucket", bucket);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (codes.Contains(reader.GetString(1)))
            {
                each(reader);
            }
        }
    }

    /// <summary>Which of the 16 ring buckets of the day index a ring position falls in: its top four bits.</summary>
    private static int Bucket(ulong ring) => (int)(ring >> 60);

    /// <summary>A fingerprint from its two stored sums of 32-bit halves (wrapping, as the digests' sum does).</summary>
    private static ulong Sum(long low, long high) => unchecked((ulong)low + ((ulong)high << 32));

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
