using Microsoft.Data.Sqlite;

namespace Shortener.Storage.Sqlite;

/// <summary>
/// One step of a schema: applied once, in order, inside a transaction, recorded in <c>PRAGMA user_version</c>.
/// <paramref name="Then"/>, when given, runs after the SQL in the same transaction (a step SQL alone cannot express).
/// </summary>
public sealed record SchemaMigration(int Version, string Name, string Sql, Action<SqliteConnection, SqliteTransaction>? Then = null);
