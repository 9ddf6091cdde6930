using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Storage.Files;

namespace Shortener.Storage.Raft;

/// <summary>
/// A replica's Raft state on disk, and the in-memory log the engine reads, kept in step: the
/// replica driver writes each Ready (snapshot file, then the group's records in the node's
/// <see cref="RaftLogEngine"/>), has it synced, then publishes it to memory; snapshots it takes go
/// through <see cref="Compact"/>. Opening rebuilds the group's log on top of its newest intact
/// snapshot file.
/// </summary>
public sealed class DurableRaftStorage : IRaftDisk, IDisposable
{
    private readonly RaftLogGroup _log;
    private readonly SnapshotFileStore _snapshots;
    private readonly RaftLogEngine? _ownedEngine;
    private readonly Action<Action> _background;

    // The snapshot this replica took whose file is being written off the driver's thread, and the
    // index of the newest snapshot the log has a marker for (a save that finishes behind a newer
    // one, installed from a leader meanwhile, is not recorded).
    private PendingSave? _saving;
    private ulong _markedIndex;

    private DurableRaftStorage(RaftLogGroup log, SnapshotFileStore snapshots, MemoryRaftStorage memory, RaftLogEngine? ownedEngine, Action<Action> background)
    {
        _log = log;
        _snapshots = snapshots;
        _ownedEngine = ownedEngine;
        _background = background;
        _markedIndex = memory.Snapshot().Metadata.Index;
        Memory = memory;
        log.LiveEntries = () => Memory.Entries(Memory.FirstIndex, Memory.LastIndex + 1, long.MaxValue);
    }

    public MemoryRaftStorage Memory { get; }

    public IRaftStorage Log => Memory;

    public RecoveredRaftState Recovered => _log.Recovered;

    /// <summary>
    /// A replica alone on its own log engine (in log/ below <paramref name="directory"/>, snapshots
    /// in snap/), for tests, benchmarks and the simulator's nodes of one replica each.
    /// </summary>
    /// <param name="fileSystem">Where the files live (the real disk unless a simulator says otherwise).</param>
    public static DurableRaftStorage Open(string directory, long segmentBytes = RaftLogEngine.DefaultSegmentBytes, IFileSystem? fileSystem = null)
    {
        var engine = RaftLogEngine.Open(Path.Combine(directory, "log"), segmentBytes, fileSystem);
        try
        {
            return Open(engine.Group(1), Path.Combine(directory, "snap"), fileSystem, engine, Inline);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>A shard replica's state: its group of the node's log engine, its snapshot files in <paramref name="snapshotDirectory"/>.</summary>
    /// <param name="background">
    /// Runs the writing of the snapshot files this replica takes somewhere other than the driver's
    /// thread (a node's snapshot worker); by default they are written at once, on the caller's.
    /// </param>
    public static DurableRaftStorage Open(RaftLogGroup log, string snapshotDirectory, IFileSystem? fileSystem = null, Action<Action>? background = null) =>
        Open(log, snapshotDirectory, fileSystem, ownedEngine: null, background ?? Inline);

    private static void Inline(Action work) => work();

    private static DurableRaftStorage Open(RaftLogGroup log, string snapshotDirectory, IFileSystem? fileSystem, RaftLogEngine? ownedEngine, Action<Action> background)
    {
        var where = $"shard group {log.Id}";
        var snapshots = new SnapshotFileStore(snapshotDirectory, fileSystem);
        var snapshot = snapshots.LoadNewest(out var skipped);
        var recovered = log.Recovered;
        var snapshotIndex = snapshot?.Metadata.Index ?? 0;
        if (recovered.SnapshotIndex > snapshotIndex)
        {
            var why = skipped.Count > 0 ? $"the newer snapshot file {skipped[0]} is damaged" : $"no snapshot file holds it (in {snapshotDirectory})";
            throw new StorageException($"the Raft log of {where} starts after a snapshot at index {recovered.SnapshotIndex}, but {why}. Restore this node's data from a replica or a backup.");
        }

        var memory = new MemoryRaftStorage();
        if (snapshot is not null && snapshotIndex > 0)
        {
            memory.ApplySnapshot(snapshot);
        }

        // A snapshot file newer than the log's marker means a crash between the two. If it was
        // taken here, the log goes through its last entry and continues after it; if it was
        // received from a leader, the log did not have that entry (else the engine would not
        // have installed it) and everything after it is a deposed leader's: drop it all.
        // The log is then made to say what the file says, durably, before anything is appended:
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

            log.AppendSnapshot(snapshotIndex, snapshot.Metadata.Term, installed: received);
            log.Sync();
        }

        if (entries.Count > 0 && entries[0].Index != snapshotIndex + 1)
        {
            throw new StorageException($"the Raft log of {where} resumes at index {entries[0].Index} but its snapshot ends at {snapshotIndex}: entries are missing");
        }

        memory.Append(entries);
        if (!recovered.HardState.IsEmpty)
        {
            memory.SetHardState(recovered.HardState);
        }

        return new DurableRaftStorage(log, snapshots, memory, ownedEngine, background);
    }

    /// <summary>
    /// Queues the Ready's records in the node's log (the snapshot file is written at once) without
    /// waiting for the disk, so a host of many replicas queues them all and then one
    /// <see cref="Sync"/> writes and fsyncs the batch before the driver publishes them. A Ready
    /// that needs no fsync (only its commit index moved, which the engine relearns from the leader)
    /// rides along with the next batch that is synced.
    /// </summary>
    public void Write(Ready ready)
    {
        RecordSaved(wait: false);
        if (ready.Snapshot is { } snapshot)
        {
            _snapshots.Save(snapshot);
            _log.AppendSnapshot(snapshot.Metadata.Index, snapshot.Metadata.Term, installed: true);
            _markedIndex = Math.Max(_markedIndex, snapshot.Metadata.Index);
        }

        _log.Append(ready.HardState, ready.Entries);
    }

    /// <summary>Writes and fsyncs the node log's batch: this replica's records and those every other replica queued.</summary>
    public void Sync() => _log.Sync();

    /// <summary>Once the records are durable: makes them visible to the engine.</summary>
    public void Publish(Ready ready) => Memory.Publish(ready);

    /// <summary>
    /// Records a snapshot the application took at <paramref name="index"/> (applied): at once in
    /// memory, where the engine sends it to followers and drops log entries up to
    /// <paramref name="index"/> minus <paramref name="keepEntries"/> (kept so slightly lagging
    /// followers need no snapshot); its file is written in the background, and once it is durable
    /// (noticed at the next round) the log gets its marker and releases what the snapshot covers
    /// (segments nobody else needs are deleted), and old snapshot files go. Writing a shard's
    /// snapshot (megabytes, fsynced) on the driver's thread held up every shard of the node for as
    /// long, past their election timeouts when many shards took theirs at once. Until the marker
    /// is written the log keeps every entry, so a crash meanwhile recovers from the older snapshot
    /// (or from the new file, which recovery accepts without its marker).
    /// </summary>
    public void Compact(ulong index, ConfState configuration, byte[] data, ulong keepEntries)
    {
        RecordSaved(wait: true);
        var snapshot = Memory.CreateSnapshot(index, configuration, data);
        if (index > keepEntries)
        {
            Memory.Compact(index - keepEntries);
        }

        var saving = new PendingSave(snapshot);
        _saving = saving;
        _background(() => saving.Run(_snapshots));
        RecordSaved(wait: false);
    }

    /// <summary>
    /// Marks in the log the snapshot whose file is now durable (on the driver's thread), then
    /// releases the log below it; with <paramref name="wait"/>, first waits for the file. A file
    /// that could not be written fails the caller, as a failed write of the log does.
    /// </summary>
    private void RecordSaved(bool wait)
    {
        if (_saving is not { } saving)
        {
            return;
        }

        if (wait)
        {
            saving.Wait();
        }
        else if (!saving.IsDone)
        {
            return;
        }

        _saving = null;
        saving.Dispose();
        if (saving.Error is { } error)
        {
            throw new IOException($"writing the snapshot at index {saving.Snapshot.Metadata.Index} failed: {error.Message}", error);
        }

        var index = saving.Snapshot.Metadata.Index;
        if (index <= _markedIndex)
        {
            return;
        }

        _log.AppendSnapshot(index, saving.Snapshot.Metadata.Term, installed: false);
        _log.Sync();
        _markedIndex = index;
        _log.ReleaseTo(index);
        _snapshots.Purge(keep: 2);
    }

    public void Dispose()
    {
        try
        {
            RecordSaved(wait: true);
        }
        catch (IOException)
        {
            // The log still holds every entry the unwritten snapshot covers: nothing is lost.
        }

        _ownedEngine?.Dispose();
    }

    /// <summary>A snapshot file being written off the driver's thread.</summary>
    private sealed class PendingSave(RaftSnapshot snapshot) : IDisposable
    {
        private readonly ManualResetEventSlim _done = new(false);

        public RaftSnapshot Snapshot => snapshot;

        public Exception? Error { get; private set; }

        public bool IsDone => _done.IsSet;

        public void Run(SnapshotFileStore files)
        {
            try
            {
                files.Save(snapshot);
            }
            catch (Exception e)
            {
                Error = e;
            }
            finally
            {
                _done.Set();
            }
        }

        public void Wait() => _done.Wait();

        public void Dispose() => _done.Dispose();
    }
}
