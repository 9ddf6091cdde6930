using Microsoft.Data.Sqlite;

namespace Shortener.Storage.Sqlite;

/// <summary>
/// Copies a WAL-mode database's write-ahead log back into the database file on a thread of its own
/// (PRAGMA wal_checkpoint(PASSIVE) on a connection of its own, every interval), for a writer that
/// turned its automatic checkpoints off: SQLite otherwise runs the checkpoint inside the commit
/// that crosses 1,000 WAL pages, and the writer (the node's driver thread, which every shard's
/// rounds wait for) stalls for the copy and its fsync. A passive checkpoint never waits for the
/// writer or readers; it copies what it can and the next one goes on.
/// </summary>
public sealed class WalCheckpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _checkpoints;
    private long _failures;

    public WalCheckpointer(string connectionString, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _thread = new Thread(Run) { IsBackground = true, Name = "db-checkpoint" };
        _thread.Start();
    }

    /// <summary>Checkpoints run.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Checkpoints that failed (the next one tries again; the WAL grows meanwhile).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Stops after the checkpoint in progress.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        while (!_stop.Token.WaitHandle.WaitOne(_interval))
        {
            try
            {
                command.ExecuteNonQuery();
                Interlocked.Increment(ref _checkpoints);
            }
            catch (SqliteException)
            {
                Interlocked.Increment(ref _failures);
            }
        }
    }
}
