using Microsoft.Data.Sqlite;

namespace Shortener.Storage.Sqlite;

/// <summary>Brings a SQLite database up to the newest schema version known to this build.</summary>
public static class SchemaMigrator
{
    public static int CurrentVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <returns>The migrations that were applied now (empty when already current).</returns>
    public static IReadOnlyList<SchemaMigration> Migrate(SqliteConnection connection, IReadOnlyList<SchemaMigration> migrations, string databaseName)
    {
        var current = CurrentVersion(connection);
        var newest = migrations.Count == 0 ? 0 : migrations[^1].Version;
        if (current > newest)
        {
            throw new StorageException($"{databaseName} has schema version {current}, but this build knows only up to {newest}; it was written by a newer Shortener");
        }

        var applied = new List<SchemaMigration>();
        foreach (var migration in migrations.Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migration.Sql;
                command.ExecuteNonQuery();
            }

            migration.Then?.Invoke(connection, transaction);
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = $"PRAGMA user_version = {migration.Version}";
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            applied.Add(migration);
        }

        return applied;
    }
}
