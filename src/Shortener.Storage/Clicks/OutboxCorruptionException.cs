namespace Shortener.Storage.Clicks;

/// <summary>An outbox segment damaged before its end: records after the damage were written and synced, so cutting it off would lose them silently.</summary>
public sealed class OutboxCorruptionException(string message) : StorageException(message);
