using Microsoft.Data.Sqlite;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>An open reader connection with its prepared lookup of one link.</summary>
internal sealed class LinkLookup : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _command;
    private readonly SqliteParameter _shard;
    private readonly SqliteParameter _code;

    public LinkLookup(SqliteConnection connection)
    {
        _connection = connection;
        _command = connection.CreateCommand();
        _command.CommandText = $"SELECT {SqliteLinkTable.SelectColumns} FROM links WHERE shard = $shard AND code = $code";
        _shard = _command.Parameters.Add("$shard", SqliteType.Integer);
        _code = _command.Parameters.Add("$code", SqliteType.Text);
    }

    public Link? Find(int shard, string code)
    {
        _shard.Value = shard;
        _code.Value = code;
        using var reader = _command.ExecuteReader();
        return reader.Read() ? SqliteLinkTable.ReadLink(reader) : null;
    }

    public void Dispose()
    {
        _command.Dispose();
        _connection.Dispose();
    }
}
