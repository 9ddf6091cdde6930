namespace Shortener.Storage.Raft;

/// <summary>
/// The WAL is damaged somewhere other than its tail: entries that may have been committed cannot
/// be read. The node must not start (it could vote or lead without them); restore the data dir
/// from a replica or a backup.
/// </summary>
public sealed class WalCorruptionException(string message) : StorageException(message);
