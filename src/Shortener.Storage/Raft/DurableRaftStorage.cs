using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Storage.Files;

namespace Shortener.Storage.Raft;

/// <summary>
/// A replica's Raft state on disk, and the in-memory log the engine reads, kept in step: the
/// replica driver writes each Ready (snapshot file, then WAL records), has it synced, then
/// publishes it to memory; snapshots it takes go through <see cref="Compact"/>. Opening replays the
/// WAL on top of the newest intact snapshot file.
/// </summary>
public sealed class DurableRaftStorage : IRaftDisk, IDisposable
{
    private readonly RaftWal _wal;
    private readonly SnapshotFileStore _snapshots;

    private DurableRaftStorage(RaftWal wal, SnapshotFileStore snapshots, MemoryRaftStorage memory, RecoveredRaftState recovered)
    {
        _wal = wal;
        _snapshots = snapshots;
        Memory = memory;
        Recovered = recovered;
    }

    public MemoryRaftStorage Memory { get; }

    public IRaftStorage Log => Memory;

    public RecoveredRaftState Recovered { get; }

    public RaftWal Wal => _wal;

    /// <param name="fileSystem">Where the files live (the real disk unless a simulator says otherwise).</param>
    public static DurableRaftStorage Open(string directory, long segmentBytes = RaftWal.DefaultSegmentBytes, IFileSystem? fileSystem = null)
    {
        var snapshots = new SnapshotFileStore(Path.Combine(directory, "snap"), fileSystem);
        var snapshot = snapshots.LoadNewest(out var skipped);
        var (wal, recovered) = RaftWal.Open(Path.Combine(directory, "wal"), segmentBytes, fileSystem);
        try
        {
            var snapshotIndex = snapshot?.Metadata.Index ?? 0;
            if (recovered.SnapshotIndex > snapshotIndex)
            {
                var why = skipped.Count > 0 ? $"the newer snapshot file {skipped[0]} is damaged" : "no snapshot file holds it";
                throw new StorageException($"the WAL in {directory} starts after a snapshot at index {recovered.SnapshotIndex}, but {why}. Restore this node's data from a replica or a backup.");
            }

            var memory = new MemoryRaftStorage();
            if (snapshot is not null && snapshotIndex > 0)
            {
                memory.ApplySnapshot(snapshot);
            }

            // A snapshot file newer than the WAL's marker means a crash between the two. If it was
            // taken here, the WAL's log goes through its last entry and continues after it; if it was
            // received from a leader, the log did not have that entry (else the engine would not
            // have installed it) and everything after it is a deposed leader's: drop it all.
            // The WAL is then made to say what the file says, durably, before anything is appended:
            // entries written after the lost marker would otherwise follow the old log's last entry
            // with a gap the next replay refuses.
            var entries = recovered.Entries.Where(e => e.Index > snapshotIndex).ToList();
            if (snapshot is not null && snapshotIndex > recovered.SnapshotIndex)
            {
                var atSnapshot = recovered.Entries.FirstOrDefault(e => e.Index == snapshotIndex);
                var received = atSnapshot is null || atSnapshot.Term != snapshot.Metadata.Term;
                if (received)
                {
                    entries.Clear();
                }

                wal.AppendSnapshot(snapshotIndex, snapshot.Metadata.Term, installed: received);
                wal.Sync();
            }

            if (entries.Count > 0 && entries[0].Index != snapshotIndex + 1)
            {
                throw new StorageException($"the WAL in {directory} resumes at index {entries[0].Index} but the snapshot ends at {snapshotIndex}: entries are missing");
            }

            memory.Append(entries);
            if (!recovered.HardState.IsEmpty)
            {
                memory.SetHardState(recovered.HardState);
            }

            return new DurableRaftStorage(wal, snapshots, memory, recovered);
        }
        catch
        {
            wal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the Ready's records to the WAL file without waiting for the disk, so a host of many
    /// replicas can write them all and then fsync each WAL once (<see cref="Sync"/>) before the
    /// driver publishes them. A Ready that needs no fsync (only its commit index moved, which the
    /// engine relearns from the leader) is not written on its own: its records wait for the next
    /// batch that is synced. So at most the last batch of the file is ever unsynced, which is what
    /// recovery relies on to tell a torn tail from lost synced data.
    /// </summary>
    public void Write(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            _snapshots.Save(snapshot);
            _wal.AppendSnapshot(snapshot.Metadata.Index, snapshot.Metadata.Term, installed: true);
        }

        _wal.Append(ready.HardState, ready.Entries);
        if (ready.MustSync)
        {
            _wal.Sync(fsync: false);
        }
    }

    public void Sync() => _wal.FlushToDisk();

    /// <summary>Once the records are durable: makes them visible to the engine.</summary>
    public void Publish(Ready ready) => Memory.Publish(ready);

    /// <summary>
    /// Records a snapshot the application took at <paramref name="index"/> (applied), drops log
    /// entries up to <paramref name="index"/> minus <paramref name="keepEntries"/> (kept so slightly
    /// lagging followers need no snapshot), and deletes WAL segments and old snapshot files it covers.
    /// </summary>
    public void Compact(ulong index, ConfState configuration, byte[] data, ulong keepEntries)
    {
        var snapshot = Memory.CreateSnapshot(index, configuration, data);
        _snapshots.Save(snapshot);
        _wal.AppendSnapshot(index, snapshot.Metadata.Term, installed: false);
        _wal.Sync();
        if (index > keepEntries)
        {
            Memory.Compact(index - keepEntries);
        }

        _wal.ReleaseTo(index);
        _snapshots.Purge(keep: 2);
    }

    public void Dispose() => _wal.Dispose();
}
