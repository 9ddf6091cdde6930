using Microsoft.Data.Sqlite;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// A shard's live links as of one committed apply, read in one read transaction, with the applied
/// index they reflect: the snapshot a change feed starts from (<c>snapshot=initial</c>), so that the
/// changes after that index follow it with no gap and no repeat. Holds a reader connection until
/// disposed; read it through, then dispose.
/// </summary>
public sealed class LinkScan : IDisposable
{
    private readonly Action _release;
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly SqliteCommand _command;
    private readonly SqliteDataReader _reader;

    internal LinkScan(SqliteConnection connection, int shard, string appliedKey, Action release)
    {
        _connection = connection;
        _release = release;
        _transaction = connection.BeginTransaction(deferred: true);
        _command = connection.CreateCommand();
        _command.Transaction = _transaction;
        _command.Parameters.AddWithValue("$shard", shard);
        _command.Parameters.AddWithValue("$key", appliedKey);
        _command.CommandText = "SELECT value FROM meta WHERE shard = $shard AND key = $key";
        AppliedIndex = _command.ExecuteScalar() is string text ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;
        _command.CommandText = $"SELECT {SqliteLinkTable.SelectColumns} FROM links WHERE shard = $shard AND deleted = 0 ORDER BY code";
        _reader = _command.ExecuteReader();
    }

    /// <summary>The shard's applied index these links reflect: its changes after this index come after them.</summary>
    public ulong AppliedIndex { get; }

    /// <summary>The next live link, in code order, or null at the end.</summary>
    public Link? Next() => _reader.Read() ? SqliteLinkTable.ReadLink(_reader) : null;

    public void Dispose()
    {
        _reader.Dispose();
        _command.Dispose();
        _transaction.Dispose();
        _connection.Dispose();
        _release();
    }
}

public sealed partial class SqliteLinkStore
{
    /// <summary>Starts reading <paramref name="shard"/>'s live links as last committed (<see cref="WhenCommittedAsync"/> first to include every apply so far).</summary>
    public LinkScan ScanLinks(int shard)
    {
        EnterRead();
        SqliteConnection? connection = null;
        try
        {
            connection = new SqliteConnection(_connectionString);
            connection.Open();
            return new LinkScan(connection, shard, AppliedIndexKey, ExitRead);
        }
        catch
        {
            connection?.Dispose();
            ExitRead();
            throw;
        }
    }
}
