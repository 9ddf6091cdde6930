namespace Shortener.Storage.Sqlite;

/// <summary>One step of a schema: applied once, in order, inside a transaction, recorded in <c>PRAGMA user_version</c>.</summary>
public sealed record SchemaMigration(int Version, string Name, string Sql);
