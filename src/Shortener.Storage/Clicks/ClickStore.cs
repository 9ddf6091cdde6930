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
/// transaction per batch. Days past the seal horizon are sealed (<see cref="Seal"/>): a link's
/// clicks of the day become a versioned record of per-origin counters in <c>sealed_days</c> and
/// are deleted with their daily counters; clicks that arrive for a sealed day are not stored.
/// </summary>
public sealed class ClickStore : IClickReplicaStore, IDisposable
{
    private const string EventColumns = "id, code, at, hlc, kind, referrer, country, origin";

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private SqliteCommand? _insert;
    private SqliteCommand? _replace;

    /// <summary>The latest day any record here is sealed for: a click of a later day cannot be late, and skips the lookup.</summary>
    private int _lastSealedDay;

    private ClickStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(day), -2147483648) FROM sealed_days";
        _lastSealedDay = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Path { get; }

    public static ClickStore Open(string path)
    {
        var connection = SqliteDatabase.Open(
            new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString(),
            path,
            "click",
            "move it aside to start empty; anti-entropy refills it from the other replicas",
            [
                // The events' own redundancy (N replicas, hints, anti-entropy) covers a lost last commit.
                "PRAGMA synchronous = NORMAL",

                // A batch of clicks dirties a page of the index per link it touches: room for large batches, and fewer checkpoints.
                "PRAGMA cache_size = -65536",
                "PRAGMA wal_autocheckpoint = 4000",
            ],
            ClickSchema.Migrations);
        return new ClickStore(connection, path);
    }

    /// <summary>
    /// Stores the events not stored yet, in one transaction (the triggers count each new one into
    /// its link's daily counter), but those of a link's day sealed here (late: counted, not stored).
    /// </summary>
    public StoredClicks Add(IReadOnlyList<ClickEvent> events)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            var insert = Prepared(ref _insert, """
                INSERT OR IGNORE INTO clicks (id, ring, code, day, kind, id_hash, content, at, hlc, referrer, country, bucket, digest, origin)
                VALUES ($id, $ring, $code, $day, $kind, $idHash, $content, $at, $hlc, $referrer, $country, $bucket, $digest, $origin)
                """);
            // Two versions of one id (only a bug or a damaged copy makes them): the one with the
            // lower content hash wins everywhere, so replicas converge instead of repairing forever
            // (the update trigger moves the counts from the old version to the new).
            var replace = Prepared(ref _replace, """
                UPDATE clicks SET ring = $ring, code = $code, day = $day, kind = $kind, content = $content, at = $at, hlc = $hlc,
                    referrer = $referrer, country = $country, bucket = $bucket, digest = $digest, origin = $origin
                WHERE id = $id AND content > $content
                """);
            insert.Transaction = transaction;
            replace.Transaction = transaction;
            var added = 0;
            var late = 0;
            Dictionary<(string, int), bool>? sealedDays = null;
            Span<byte> id = stackalloc byte[16];
            var values = new object?[EventParameters.Length];
            foreach (var e in events)
            {
                var ring = HashRing.KeyHash(e.Code);
                if (e.Day <= _lastSealedDay)
                {
                    sealedDays ??= [];
                    if (!sealedDays.TryGetValue((e.Code, e.Day), out var isSealed))
                    {
                        sealedDays[(e.Code, e.Day)] = isSealed = IsSealed(ring, e.Code, e.Day, transaction);
                    }

                    if (isSealed)
                    {
                        late++;
                        continue;
                    }
                }

                e.Id.TryWriteBytes(id, bigEndian: true, out _);
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
                values[13] = unchecked((long)e.Origin);
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
            return new StoredClicks(added, late);
        }
    }

    /// <summary>Clicks counted here, open (from the daily counters) and sealed.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT (SELECT coalesce(sum(human + bots), 0) FROM click_days) + (SELECT coalesce(sum(human + bots), 0) FROM sealed_days)";
                return (long)command.ExecuteScalar()!;
            }
        }
    }

    /// <summary>Sealed days whose stored record could not be read and was replaced by a seal or a merge (damage on disk).</summary>
    public long ReplacedDamagedRecords { get; private set; }

    /// <summary>Clicks held whole (open days): what sealing shrinks.</summary>
    public long OpenClicks
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

            var referrers = new Dictionary<string, long>(StringComparer.Ordinal);
            using (var command = OfLink("click_referrers", code, fromDay, toDay,
                "SELECT referrer, sum(clicks) AS n FROM click_referrers {0} GROUP BY referrer HAVING n > 0"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    referrers[reader.GetString(0)] = reader.GetInt64(1);
                }
            }

            foreach (var record in SealedOf(code, fromDay, toDay))
            {
                var value = record.Value;
                if (value.Total > 0)
                {
                    days.Add(new ClickDay(record.Day, value.Human.Value, value.Bots.Value));
                }

                foreach (var (host, clicks) in value.Referrers)
                {
                    referrers[host] = referrers.GetValueOrDefault(host) + clicks.Value;
                }
            }

            days.Sort((a, b) => a.Day.CompareTo(b.Day));
            var top = referrers.Where(r => r.Value > 0).Select(r => new ReferrerCount(r.Key, r.Value))
                .OrderByDescending(r => r.Clicks).ThenBy(r => r.Referrer, StringComparer.Ordinal).Take(topReferrers).ToList();
            var human = days.Sum(d => d.Human);
            var bots = days.Sum(d => d.Bots);
            return new ClickStats(code, human + bots, human, bots, days, top);
        }
    }

    public (long Count, ulong Fingerprint) Fingerprint(string code, int fromDay, int toDay)
    {
        lock (_lock)
        {
            var count = 0L;
            var fingerprint = 0UL;
            using (var command = OfLink("click_days", code, fromDay, toDay, "SELECT human + bots, digest_low, digest_high FROM click_days {0}"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    count += reader.GetInt64(0);
                    fingerprint += Sum(reader.GetInt64(1), reader.GetInt64(2));
                }
            }

            using (var command = OfLink("sealed_days", code, fromDay, toDay, "SELECT day, human + bots, hash FROM sealed_days {0}"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    count += reader.GetInt64(1);
                    fingerprint += ClickAggregation.SealedDigest(code, reader.GetInt32(0), FromSigned(reader.GetInt64(2)));
                }
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
                SELECT code, sum(human), sum(bots) FROM (
                    SELECT code, human, bots FROM click_days WHERE day BETWEEN $from AND $to
                    UNION ALL
                    SELECT code, human, bots FROM sealed_days WHERE day BETWEEN $from AND $to)
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
            var digests = new List<(ulong, ulong)>();
            using (var command = InRange(from, to, "SELECT code, day, human, bots, digest_low, digest_high FROM click_days WHERE ({0}) AND human + bots > 0"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    digests.Add((ClickHashes.DayKey(reader.GetString(0), reader.GetInt32(1)), ClickHashes.DayValue(reader.GetInt64(2), reader.GetInt64(3), Sum(reader.GetInt64(4), reader.GetInt64(5)))));
                }
            }

            using (var command = InRange(from, to, "SELECT code, day, hash FROM sealed_days WHERE {0}"))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    digests.Add((ClickHashes.DayKey(reader.GetString(0), reader.GetInt32(1)), ClickHashes.SealedValue(FromSigned(reader.GetInt64(2)))));
                }
            }

            return digests;
        }
    }

    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> EventDigests(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        lock (_lock)
        {
            var digests = new List<(ulong, ulong)>();
            OfDays(from, to, days, reader => digests.Add((FromSigned(reader.GetInt64(8)), FromSigned(reader.GetInt64(9)))));
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
                if (wanted.Contains(reader.GetInt64(8)))
                {
                    events.Add(Read(reader));
                }
            });
            return events;
        }
    }

    public IReadOnlyList<SealedDayRecord> Sealed(string code, int fromDay, int toDay)
    {
        lock (_lock)
        {
            return SealedOf(code, fromDay, toDay);
        }
    }

    public IReadOnlyList<SealedDayRecord> Sealed(ulong from, ulong to, IReadOnlyCollection<ulong> days)
    {
        var wanted = days.ToHashSet();
        lock (_lock)
        {
            using var command = InRange(from, to, "SELECT code, day, record FROM sealed_days WHERE {0}");
            using var reader = command.ExecuteReader();
            var records = new List<SealedDayRecord>();
            while (reader.Read())
            {
                if (wanted.Contains(ClickHashes.DayKey(reader.GetString(0), reader.GetInt32(1))))
                {
                    records.Add(DecodeRecord((byte[])reader[2]));
                }
            }

            return records;
        }
    }

    /// <summary>
    /// Seals open days before <paramref name="beforeDay"/>, one (day, ring bucket) per transaction,
    /// oldest first, until about <paramref name="maxClicks"/> clicks were folded: each link's clicks
    /// there become <paramref name="replica"/>'s version of its sealed day, and the clicks, daily
    /// counters and referrer counts of the day are deleted.
    /// </summary>
    public int Seal(int beforeDay, ulong replica, int maxClicks)
    {
        lock (_lock)
        {
            var folded = 0;
            while (folded < maxClicks && NextToSeal(beforeDay) is { } next)
            {
                using var transaction = _connection.BeginTransaction();
                var tallies = new Dictionary<string, SealedDayTally>(StringComparer.Ordinal);
                OfDay(next.Day, next.Bucket, codes: null, reader =>
                {
                    var code = reader.GetString(1);
                    if (!tallies.TryGetValue(code, out var tally))
                    {
                        tallies[code] = tally = new SealedDayTally();
                    }

                    Tally(tally, reader);
                }, transaction);
                foreach (var (code, tally) in tallies)
                {
                    var ring = HashRing.KeyHash(code);
                    WriteSealed(ring, SealedDayRecord.Seal(code, next.Day, ExistingRecord(ring, code, next.Day, transaction), replica, tally.ToSealedDay()), transaction);
                    folded += (int)tally.Count;
                }

                Run(transaction, "DELETE FROM clicks WHERE day = $day AND bucket = $bucket", ("$day", next.Day), ("$bucket", next.Bucket));
                foreach (var ring in next.Rings)
                {
                    Run(transaction, "DELETE FROM click_days WHERE ring = $ring AND day = $day", ("$ring", ring), ("$day", next.Day));
                    Run(transaction, "DELETE FROM click_referrers WHERE ring = $ring AND day = $day", ("$ring", ring), ("$day", next.Day));
                }

                transaction.Commit();
            }

            return folded;
        }
    }

    /// <summary>
    /// Merges other replicas' records into this store, each in the same transaction as the sealing
    /// of this replica's own open clicks of that link's day (so they are counted in the record, not
    /// beside it). Returns how many records changed here.
    /// </summary>
    public int Merge(IReadOnlyList<SealedDayRecord> records, ulong replica)
    {
        if (records.Count == 0)
        {
            return 0;
        }

        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            var changed = 0;
            foreach (var record in records)
            {
                var ring = HashRing.KeyHash(record.Code);
                SealOpen(ring, record.Code, record.Day, replica, transaction);
                var kept = ExistingRecord(ring, record.Code, record.Day, transaction);
                var merged = kept is null ? record : kept.Merge(record);
                if (kept is null || merged.Hash != kept.Hash)
                {
                    WriteSealed(ring, merged, transaction);
                    changed++;
                }
            }

            transaction.Commit();
            return changed;
        }
    }

    /// <summary>Seals one link's open day, if this replica holds clicks of it (under the store's lock, in the caller's transaction).</summary>
    private void SealOpen(ulong ring, string code, int day, ulong replica, SqliteTransaction transaction)
    {
        var tally = new SealedDayTally();
        var codes = new HashSet<string>(StringComparer.Ordinal) { code };
        OfDay(day, Bucket(ring), codes, reader => Tally(tally, reader), transaction);
        if (tally.Count == 0)
        {
            return;
        }

        WriteSealed(ring, SealedDayRecord.Seal(code, day, ExistingRecord(ring, code, day, transaction), replica, tally.ToSealedDay()), transaction);
        Run(transaction, "DELETE FROM clicks WHERE day = $day AND bucket = $bucket AND code = $code", ("$day", day), ("$bucket", Bucket(ring)), ("$code", code));
        Run(transaction, "DELETE FROM click_days WHERE ring = $ring AND code = $code AND day = $day", ("$ring", ToSigned(ring)), ("$code", code), ("$day", day));
        Run(transaction, "DELETE FROM click_referrers WHERE ring = $ring AND code = $code AND day = $day", ("$ring", ToSigned(ring)), ("$code", code), ("$day", day));
    }

    /// <summary>The oldest open (day, ring bucket) before <paramref name="beforeDay"/>, with the ring positions (signed) of its links' daily counters.</summary>
    private (int Day, int Bucket, List<long> Rings)? NextToSeal(int beforeDay)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT day, ring FROM click_days WHERE day = (SELECT min(day) FROM click_days) AND day < $before";
        command.Parameters.AddWithValue("$before", beforeDay);
        using var reader = command.ExecuteReader();
        (int Day, int Bucket, List<long> Rings)? next = null;
        while (reader.Read())
        {
            var (day, ring) = (reader.GetInt32(0), reader.GetInt64(1));
            var bucket = Bucket(FromSigned(ring));
            if (next is null || bucket < next.Value.Bucket)
            {
                next = (day, bucket, [ring]);
            }
            else if (bucket == next.Value.Bucket)
            {
                next.Value.Rings.Add(ring);
            }
        }

        return next;
    }

    /// <summary>Counts one click row (<see cref="EventColumns"/>: kind 4, referrer 5, origin 7) into a tally.</summary>
    private static void Tally(SealedDayTally tally, SqliteDataReader reader) =>
        tally.Add(unchecked((ulong)reader.GetInt64(7)), (ClickKind)reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5));

    private bool IsSealed(ulong ring, string code, int day, SqliteTransaction transaction)
    {
        using var command = SealedRow("SELECT 1", ring, code, day, transaction);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>
    /// The record this replica holds of a link's day, to merge into or add a version to; one that
    /// cannot be read (a damaged row) counts as none, so the write that follows replaces it
    /// (counted in <see cref="ReplacedDamagedRecords"/>) instead of failing every merge of the day.
    /// </summary>
    private SealedDayRecord? ExistingRecord(ulong ring, string code, int day, SqliteTransaction transaction)
    {
        using var command = SealedRow("SELECT record", ring, code, day, transaction);
        if (command.ExecuteScalar() is not byte[] bytes)
        {
            return null;
        }

        try
        {
            return SealedDayRecord.Decode(bytes);
        }
        catch (FormatException)
        {
            ReplacedDamagedRecords++;
            return null;
        }
    }

    private SqliteCommand SealedRow(string select, ulong ring, string code, int day, SqliteTransaction transaction)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = select + " FROM sealed_days WHERE ring = $ring AND code = $code AND day = $day";
        command.Parameters.AddWithValue("$ring", ToSigned(ring));
        command.Parameters.AddWithValue("$code", code);
        command.Parameters.AddWithValue("$day", day);
        return command;
    }

    private void WriteSealed(ulong ring, SealedDayRecord record, SqliteTransaction transaction)
    {
        var value = record.Value;
        Run(transaction, """
            INSERT INTO sealed_days (ring, code, day, human, bots, hash, record) VALUES ($ring, $code, $day, $human, $bots, $hash, $record)
            ON CONFLICT (ring, code, day) DO UPDATE SET human = excluded.human, bots = excluded.bots, hash = excluded.hash, record = excluded.record
            """,
            ("$ring", ToSigned(ring)), ("$code", record.Code), ("$day", record.Day), ("$human", value.Human.Value), ("$bots", value.Bots.Value),
            ("$hash", ToSigned(record.Hash)), ("$record", record.Encode()));
        _lastSealedDay = Math.Max(_lastSealedDay, record.Day);
    }

    private List<SealedDayRecord> SealedOf(string code, int fromDay, int toDay)
    {
        using var command = OfLink("sealed_days", code, fromDay, toDay, "SELECT record FROM sealed_days {0} ORDER BY day");
        using var reader = command.ExecuteReader();
        var records = new List<SealedDayRecord>();
        while (reader.Read())
        {
            records.Add(DecodeRecord((byte[])reader[0]));
        }

        return records;
    }

    private SealedDayRecord DecodeRecord(byte[] bytes)
    {
        try
        {
            return SealedDayRecord.Decode(bytes);
        }
        catch (FormatException e)
        {
            throw new StorageException($"a sealed day in {Path} cannot be read ({e.Message}); the file is damaged: move it aside to start empty, and anti-entropy refills it from the other replicas", e);
        }
    }

    private void Run(SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters) =>
        SqliteDatabase.Execute(_connection, transaction, sql, parameters);

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

    private static readonly string[] EventParameters = ["$id", "$ring", "$code", "$day", "$kind", "$idHash", "$content", "$at", "$hlc", "$referrer", "$country", "$bucket", "$digest", "$origin"];

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

    /// <summary>The clicks of these links (null: of every link) on one day in one ring bucket.</summary>
    private void OfDay(int day, int bucket, HashSet<string>? codes, Action<SqliteDataReader> each, SqliteTransaction? transaction = null)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {EventColumns}, id_hash, content FROM clicks INDEXED BY clicks_by_day WHERE day = $day AND bucket = $bucket";
        command.Parameters.AddWithValue("$day", day);
        command.Parameters.AddWithValue("$bucket", bucket);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (codes is null || codes.Contains(reader.GetString(1)))
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
        reader.IsDBNull(6) ? null : reader.GetString(6))
    {
        Origin = unchecked((ulong)reader.GetInt64(7)),
    };

    /// <summary>An unsigned ring position as a signed SQLite integer, order kept (the top bit flipped).</summary>
    private static long ToSigned(ulong value) => (long)(value ^ 0x8000000000000000UL);

    private static ulong FromSigned(long value) => (ulong)value ^ 0x8000000000000000UL;
}
