using Microsoft.Data.Sqlite;
using Shortener.Storage.Sqlite;

namespace Shortener.Storage.Links;

/// <summary>A shard's rows copied out of the node's database and installed into it (Raft snapshots).</summary>
public sealed partial class SqliteLinkStore
{
    /// <summary>
    /// A consistent copy of <paramref name="shard"/>'s rows as bytes (a small SQLite file of its
    /// own, without the shard column) and the applied index it holds. It reads through a connection
    /// of its own in one read transaction, so applies go on meanwhile; the copy is the shard as of
    /// one committed apply.
    /// </summary>
    public (ulong AppliedIndex, byte[] Data) ExportSnapshot(int shard = 0)
    {
        var copy = Path + ".snapshot-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var lease = OpenReader())
            {
                var connection = lease.Connection;
                SqliteDatabase.Execute(connection, null, "ATTACH DATABASE $path AS snap", ("$path", copy));
                try
                {
                    using var transaction = connection.BeginTransaction(deferred: true);
                    foreach (var table in LinkSchema.ShardTables)
                    {
                        SqliteDatabase.Execute(connection, transaction, $"CREATE TABLE snap.{table} AS SELECT {SnapshotColumns(table)} FROM main.{table} WHERE shard = $shard", ("$shard", shard));
                    }

                    transaction.Commit();
                }
                finally
                {
                    SqliteDatabase.Execute(connection, null, "DETACH DATABASE snap");
                }
            }

            ulong applied;
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT value FROM meta WHERE key = $key";
                command.Parameters.AddWithValue("$key", AppliedIndexKey);
                applied = command.ExecuteScalar() is string text ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;
            }

            return (applied, File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>
    /// Replaces <paramref name="shard"/>'s rows with a snapshot from <see cref="ExportSnapshot"/>
    /// (empty: the shard starts empty) applied through <paramref name="appliedIndex"/>, in one
    /// transaction: readers see the old rows or the new, and a crash leaves one or the other. What
    /// the applies hold so far is committed first.
    /// </summary>
    public void RestoreSnapshot(int shard, byte[] snapshot, ulong appliedIndex)
    {
        var staged = Path + ".incoming-" + Guid.NewGuid().ToString("N");
        try
        {
            if (snapshot.Length > 0)
            {
                File.WriteAllBytes(staged, snapshot);
            }

            lock (_writeLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                CommitHeldLocked();
                if (snapshot.Length > 0)
                {
                    SqliteDatabase.Execute(_writer, null, "ATTACH DATABASE $path AS snap", ("$path", staged));
                }

                try
                {
                    using var transaction = _writer.BeginTransaction(deferred: false);
                    foreach (var table in LinkSchema.ShardTables)
                    {
                        SqliteDatabase.Execute(_writer, transaction, $"DELETE FROM main.{table} WHERE shard = $shard", ("$shard", shard));
                        if (snapshot.Length > 0)
                        {
                            var columns = SnapshotColumns(table);
                            SqliteDatabase.Execute(_writer, transaction, $"INSERT INTO main.{table} (shard, {columns}) SELECT $shard, {columns} FROM snap.{table}", ("$shard", shard));
                        }
                    }

                    _table.Transaction = transaction;
                    _table.Shard = shard;
                    SetMeta(shard, AppliedIndexKey, appliedIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    _table.Transaction = null;
                    transaction.Commit();
                    Commits++;
                }
                finally
                {
                    _table.Transaction = null;
                    if (snapshot.Length > 0)
                    {
                        SqliteDatabase.Execute(_writer, null, "DETACH DATABASE snap");
                    }
                }
            }
        }
        catch (SqliteException e)
        {
            throw new StorageException($"a snapshot of shard {shard} could not be installed in {Path}: {e.Message}", e);
        }
        finally
        {
            File.Delete(staged);
        }
    }

    /// <summary>The columns of <paramref name="table"/> a snapshot carries: all but the shard.</summary>
    private static string SnapshotColumns(string table) => table switch
    {
        "meta" => "key, value",
        "links" => SqliteLinkTable.SelectColumns,
        "link_tags" => "tag, created_at, code",
        "idempotency" => "scope, key, request_hash, result, created_at",
        "applied_proposals" => "proposer, id, at, result",
        "changes" => SqliteLinkTable.ChangeColumns,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, "not a shard table"),
    };
}
