using Microsoft.Data.Sqlite;

namespace Shortener.Storage.Sqlite;

/// <summary>
/// Opens a node's SQLite database file the one way every store does: its directory created, the
/// WAL journal and the store's own pragmas set, its integrity checked, its schema migrated. A file
/// that is damaged or cannot be opened is refused with a <see cref="StorageException"/> that names
/// it and says what the operator can do (<c>remedy</c>, a clause such as "move it aside to start
/// empty"); nothing is changed in it.
/// </summary>
public static class SqliteDatabase
{
    public static SqliteConnection Open(string connectionString, string path, string kind, string remedy, IReadOnlyList<string> pragmas, IReadOnlyList<SchemaMigration> migrations, bool check = true)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL");
            foreach (var pragma in pragmas)
            {
                Execute(connection, pragma);
            }

            if (check)
            {
                using var quickCheck = connection.CreateCommand();
                quickCheck.CommandText = "PRAGMA quick_check";
                if (quickCheck.ExecuteScalar() as string is var verdict && verdict != "ok")
                {
                    throw new StorageException($"{kind} database {path} failed its integrity check: {verdict}. {char.ToUpperInvariant(remedy[0])}{remedy[1..]}.");
                }
            }

            SchemaMigrator.Migrate(connection, migrations, path);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StorageException($"cannot open {kind} database {path}: {e.Message}. If the file is damaged, {remedy}.", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql) => Execute(connection, null, sql);

    /// <summary>Runs one statement with named parameters, inside <paramref name="transaction"/> when one is open.</summary>
    public static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }
}
