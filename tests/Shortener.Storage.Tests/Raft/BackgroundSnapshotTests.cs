using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Simulation.Disk;
using Shortener.Storage.Raft;
using static Shortener.Storage.Tests.Raft.RaftWalTests;

namespace Shortener.Storage.Tests.Raft;

/// <summary>
/// A replica's own snapshot files are written off the driver's thread (a node's snapshot worker):
/// the log keeps every entry until the file is durable, and only then gets its marker.
/// </summary>
public sealed class BackgroundSnapshotTests
{
    private const string LogDir = "/n/log";
    private const string SnapDir = "/n/snap";

    private readonly SimFileSystem _disk = new();
    private readonly Queue<Action> _work = new();

    [Fact]
    public void The_file_is_written_by_the_worker_and_a_crash_before_it_recovers_everything_from_the_log()
    {
        var (engine, storage) = Open();
        WriteEntries(storage, 10);

        storage.Compact(8, ConfState.Of(1), [8], keepEntries: 2);

        // At once in memory (what followers are sent), but nothing on disk yet.
        Assert.Equal(8UL, storage.Memory.Snapshot().Metadata.Index);
        Assert.Equal(7UL, storage.Memory.FirstIndex);
        Assert.Single(_work);
        Assert.Empty(_disk.Files(SnapDir, ".snap"));

        engine.Dispose();
        _disk.Crash(new SeededRandom(1), tornWrites: false);
        var (again, recovered) = Open();
        using (again)
        {
            Assert.Equal(0UL, recovered.Memory.Snapshot().Metadata.Index);
            Assert.Equal(1UL, recovered.Memory.FirstIndex);
            Assert.Equal(10UL, recovered.Memory.LastIndex);
        }
    }

    [Fact]
    public void Once_the_file_is_durable_the_next_round_marks_it_and_a_restart_starts_from_it()
    {
        var (engine, storage) = Open();
        WriteEntries(storage, 10);
        storage.Compact(8, ConfState.Of(1), [8], keepEntries: 2);

        _work.Dequeue()();
        Assert.Single(_disk.Files(SnapDir, ".snap"));
        storage.Write(new Ready());

        engine.Dispose();
        _disk.Crash(new SeededRandom(1), tornWrites: false);
        var (again, recovered) = Open();
        using (again)
        {
            Assert.Equal(8UL, recovered.Memory.Snapshot().Metadata.Index);
            Assert.Equal([9UL, 10UL], recovered.Memory.Entries(9, 11, long.MaxValue).Select(e => e.Index));
            Assert.Equal(8UL, recovered.Recovered.SnapshotIndex);
        }
    }

    [Fact]
    public void A_file_that_could_not_be_written_fails_the_next_round_like_a_failed_log_write()
    {
        var failing = new FailingFileSystem(_disk);
        using var engine = RaftLogEngine.Open(LogDir, fileSystem: _disk);
        var storage = DurableRaftStorage.Open(engine.Group(1), SnapDir, failing, _work.Enqueue);
        WriteEntries(storage, 10);
        storage.Compact(8, ConfState.Of(1), [8], keepEntries: 2);

        failing.FailSyncsFrom(1);
        _work.Dequeue()();
        var error = Assert.Throws<IOException>(() => storage.Write(new Ready()));
        Assert.Contains("writing the snapshot at index 8 failed", error.Message);
    }

    [Fact]
    public void A_snapshot_installed_from_a_leader_while_an_older_one_is_written_stays_the_one_a_restart_starts_from()
    {
        var (engine, storage) = Open();
        WriteEntries(storage, 10);
        storage.Compact(8, ConfState.Of(1), [8], keepEntries: 2);

        var installed = new RaftSnapshot(new SnapshotMetadata(20, 2, ConfState.Of(1)), [20]);
        var ready = new Ready { Snapshot = installed, HardState = new HardState(2, 1, 20) };
        storage.Write(ready);
        storage.Sync();
        storage.Publish(ready);
        var more = new Ready { HardState = new HardState(2, 1, 22), Entries = [E(2, 21), E(2, 22)] };
        storage.Write(more);
        storage.Sync();
        storage.Publish(more);

        // The older file lands now, behind the installed snapshot and the entries after it.
        _work.Dequeue()();
        storage.Write(new Ready());
        storage.Sync();

        engine.Dispose();
        _disk.Crash(new SeededRandom(1), tornWrites: false);
        var (again, recovered) = Open();
        using (again)
        {
            Assert.Equal(20UL, recovered.Memory.Snapshot().Metadata.Index);
            Assert.Equal(20UL, recovered.Recovered.SnapshotIndex);
            Assert.Equal(22UL, recovered.Memory.LastIndex);
        }
    }

    private (RaftLogEngine Engine, DurableRaftStorage Storage) Open()
    {
        var engine = RaftLogEngine.Open(LogDir, fileSystem: _disk);
        return (engine, DurableRaftStorage.Open(engine.Group(1), SnapDir, _disk, _work.Enqueue));
    }

    private static void WriteEntries(DurableRaftStorage storage, int count)
    {
        var ready = new Ready
        {
            HardState = new HardState(1, 1, (ulong)count),
            Entries = [.. Enumerable.Range(1, count).Select(i => E(1, (ulong)i))],
        };
        storage.Write(ready);
        storage.Sync();
        storage.Publish(ready);
    }
}
