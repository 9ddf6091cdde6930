using Microsoft.Data.Sqlite;

namespace Shortener.Storage.Sqlite;

/// <summary>
/// Copies a WAL-mode database's write-ahead log back into the database file on a thread of its own
/// (PRAGMA wal_checkpoint(PASSIVE) on a connection of its own, every interval), for a writer that
/// turned its automatic checkpoints off: SQLite otherwise runs the checkpoint inside the commit
/// that crosses 1,000 WAL pages, and the writer (the node's driver thread, which every shard's
/// rounds wait for) stalls for the copy and its fsync. A passive checkpoint never waits for the
/// writer or readers; it copies what it can and the next one goes on.
/// <para>
/// Copying is not enough to keep the log small. SQLite writes from the start of the WAL again only
/// when a write transaction begins on a log that is copied back whole, and a writer that is never
/// idle always commits new frames between one background checkpoint and its next transaction: the
/// file then grows without end (half a gigabyte a minute under steady creates), and so does the
/// work of every checkpoint and page lookup. So once the log passes <see cref="RestartFrames"/>,
/// the writer's <see cref="AfterCommit"/> (between a commit and its next transaction) first wakes
/// the background checkpoint, and after the next commit, once that one copied everything before
/// it, copies the rest itself: one commit's frames, so the writer's share stays small. Its next
/// transaction starts the log over, and <c>journal_size_limit</c> cuts the file back.
/// </para>
/// </summary>
public sealed class WalCheckpointer : IDisposable
{
    /// <summary>Where the writer restarts the log: 64 MiB of 4 KiB pages.</summary>
    public const int RestartFrames = 16384;

    private const string Checkpoint = "PRAGMA wal_checkpoint(PASSIVE)";
    private readonly SqliteConnection _connection;
    private readonly TimeSpan _interval;
    private readonly int _restartFrames;
    private readonly CancellationTokenSource _stop = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private long _checkpoints;
    private long _failures;
    private long _restarts;
    private long _logFrames;

    // Set by each background pass, cleared after every commit: set at a commit means a pass ran
    // after the commit before it, so only the latest commit's frames are left to copy.
    private volatile bool _passSinceCommit;

    /// <param name="restartFrames">The log's size in frames past which the writer restarts it (<see cref="RestartFrames"/> unless a test wants it small).</param>
    public WalCheckpointer(string connectionString, TimeSpan interval, int restartFrames = RestartFrames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(restartFrames, 1);
        _interval = interval;
        _restartFrames = restartFrames;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _thread = new Thread(Run) { IsBackground = true, Name = "db-checkpoint" };
        _thread.Start();
    }

    /// <summary>Checkpoints run in the background.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Checkpoints that failed, in the background or the writer's (the next one tries again; the WAL grows meanwhile).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Times the writer copied the log back whole, so that its next transaction wrote it from the start.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>
    /// Called by the writer on its own connection right after a commit, before it begins the next
    /// transaction. Once the last checkpoint found the log past the restart size: the first call
    /// wakes the background checkpoint; a later one, after that pass, copies back what is left (the
    /// commits since) so the next transaction starts the log over. Cheap otherwise (a field read).
    /// A copy that cannot finish (a reader on an old snapshot, the background pass running) is
    /// tried again after the next commit.
    /// </summary>
    public void AfterCommit(SqliteConnection writer)
    {
        var passed = _passSinceCommit;
        _passSinceCommit = false;
        if (Interlocked.Read(ref _logFrames) < _restartFrames)
        {
            return;
        }

        if (!passed)
        {
            _wake.Set();
            return;
        }

        try
        {
            using var command = writer.CreateCommand();
            command.CommandText = Checkpoint;
            var (busy, log, copied) = Read(command);
            if (!busy && log == copied)
            {
                Interlocked.Exchange(ref _logFrames, 0);
                Interlocked.Increment(ref _restarts);
            }
        }
        catch (SqliteException)
        {
            // The commit before it stands; the log only stays long until a later one gets through.
            Interlocked.Increment(ref _failures);
        }
        finally
        {
            _wake.Set();
        }
    }

    /// <summary>Stops after the checkpoint in progress.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _wake.Set();
        _thread.Join();
        _connection.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }

    /// <summary>The pragma's row: busy (it could not finish), frames in the log, frames copied back.</summary>
    private static (bool Busy, long Log, long Copied) Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0) != 0, reader.GetInt64(1), reader.GetInt64(2));
    }

    private void Run()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = Checkpoint;
        while (true)
        {
            _wake.WaitOne(_interval);
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                var (_, log, _) = Read(command);
                Interlocked.Exchange(ref _logFrames, log);
                Interlocked.Increment(ref _checkpoints);
                _passSinceCommit = true;
            }
            catch (SqliteException)
            {
                Interlocked.Increment(ref _failures);
            }
        }
    }
}
