using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Shortener.Core.Raft;
using Shortener.Storage.Files;
using static Shortener.Storage.Raft.LogRecordFormat;

namespace Shortener.Storage.Raft;

/// <summary>
/// A node's Raft log: one log that every Raft group on the node (each shard's replica) appends to,
/// as TiKV's raft-engine does, so a driver round writes and fsyncs once for all the shards it
/// touched. Segment files of CRC-framed records (<see cref="LogRecordFormat"/>), replayed at open
/// by <see cref="LogReplay"/>.
/// Groups queue records (<see cref="RaftLogGroup"/>); <see cref="Sync"/> writes everything queued
/// as one batch with one fsync (group commit across shards). A segment that passes
/// <see cref="SegmentBytes"/> is closed and a new one opened, starting with every group's hard state
/// and snapshot position so it stands on its own.
/// <para>
/// Compaction is per group: a group's snapshot releases its entries up to it
/// (<see cref="RaftLogGroup.ReleaseTo"/>), and the oldest segments are deleted once no group needs
/// anything in them. When a segment is closed, a group that still needs an older segment for a
/// few live entries (an idle shard that never reaches its snapshot threshold) has them rewritten at
/// the head of the log, so it does not hold that segment forever.
/// </para>
/// <para>
/// On open, a damaged tail (a torn or corrupt last batch) is cut off; damage followed by intact
/// records of a later batch means synced data was lost, and opening fails naming the segment, the
/// byte and the group of the damaged record. The engine is safe to call from several threads; a
/// node calls it from its driver thread.
/// </para>
/// </summary>
public sealed class RaftLogEngine : IDisposable
{
    public const string Extension = ".log";
    public const long DefaultSegmentBytes = 64L << 20;

    private readonly Lock _gate = new();
    private readonly IFileSystem _files;
    private readonly string _directory;
    private readonly List<LogSegment> _segments;
    private readonly Dictionary<uint, RaftLogGroup> _groups;
    private readonly ArrayBufferWriter<byte> _pending = new(64 << 10);
    private IAppendFile _current;
    private uint _batch;
    private bool _disposed;
    private Exception? _failed;

    private RaftLogEngine(IFileSystem files, string directory, long segmentBytes, List<LogSegment> segments, IAppendFile current, uint batch, Dictionary<uint, RaftLogGroup> groups, long truncated)
    {
        _files = files;
        _directory = directory;
        SegmentBytes = segmentBytes;
        _segments = segments;
        _current = current;
        _batch = batch;
        _groups = groups;
        TruncatedTailBytes = truncated;
    }

    public long SegmentBytes { get; }

    public int SegmentCount
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>Bytes that recovery cut off the tail at open (an interrupted last write).</summary>
    public long TruncatedTailBytes { get; }

    /// <summary>fsyncs done.</summary>
    public long Syncs { get; private set; }

    /// <summary>Batches written (one write each).</summary>
    public long Batches { get; private set; }

    /// <summary>Bytes written, segment headers included.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Groups that had records in a batch, summed over batches: divided by <see cref="Batches"/>, the shards one fsync served.</summary>
    public long GroupsWritten { get; private set; }

    /// <summary>Groups' live entries copied forward so old segments could go.</summary>
    public long Rewrites { get; private set; }

    /// <summary>The groups the log holds state for (recovered at open or opened since).</summary>
    public IReadOnlyList<uint> Groups
    {
        get
        {
            lock (_gate)
            {
                return [.. _groups.Keys.Order()];
            }
        }
    }

    /// <param name="fileSystem">Where the segments live (the real disk unless a simulator says otherwise).</param>
    public static RaftLogEngine Open(string directory, long segmentBytes = DefaultSegmentBytes, IFileSystem? fileSystem = null)
    {
        var fs = fileSystem ?? LocalFileSystem.Instance;
        fs.CreateDirectory(directory);
        var files = fs.Files(directory, Extension)
            .Select(path => (Path: path, Seq: ParseSeq(path)))
            .OrderBy(f => f.Seq)
            .ToList();

        var replay = new LogReplay();
        var segments = new List<LogSegment>();
        long truncated = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, seq) = files[i];
            var last = i == files.Count - 1;
            var data = fs.ReadAll(path);
            var segment = new LogSegment(seq, path);
            var good = replay.ReadSegment(segment, segments, data, last);
            if (good < data.Length)
            {
                // Only ever the last segment (a damaged earlier one throws in ReadSegment).
                truncated = data.Length - good;
                fs.Truncate(path, good);
            }

            if (good == 0)
            {
                // Not even a whole header survived: the segment was being created. Drop it.
                fs.Delete(path);
                continue;
            }

            segments.Add(segment);
        }

        var groups = new Dictionary<uint, RaftLogGroup>();
        var engine = new RaftLogEngine(fs, directory, segmentBytes, segments, null!, replay.Batch + 1, groups, truncated);
        foreach (var (id, state) in replay.Groups)
        {
            groups[id] = new RaftLogGroup(engine, id, state.ToRecovered(truncated, segments.Count));
        }

        if (segments.Count == 0)
        {
            var seg = engine.CreateSegment(1);
            segments.Add(seg.Segment);
            engine._current = seg.File;
        }
        else
        {
            engine._current = fs.OpenAppend(segments[^1].Path);
        }

        return engine;
    }

    /// <summary>
    /// The group <paramref name="id"/> (a shard's replica), with what the log holds for it; a group
    /// the log has never seen starts empty. A group is handed out once.
    /// </summary>
    public RaftLogGroup Group(uint id)
    {
        lock (_gate)
        {
            CheckUsable();
            if (!_groups.TryGetValue(id, out var group))
            {
                group = new RaftLogGroup(this, id, new RecoveredRaftState(HardState.Empty, 0, 0, [], TruncatedTailBytes, _segments.Count));
                _groups[id] = group;
            }

            if (group.Claimed)
            {
                throw new InvalidOperationException($"Raft group {id} is already open on this log");
            }

            group.Claimed = true;
            return group;
        }
    }

    /// <summary>
    /// Forgets group <paramref name="id"/> (its shard left this node), durably: its records no
    /// longer hold segments, and a later <see cref="Group"/> of the same id starts empty.
    /// </summary>
    public void RemoveGroup(uint id)
    {
        lock (_gate)
        {
            CheckUsable();
            if (!_groups.Remove(id, out var group))
            {
                return;
            }

            group.Removed = true;
            Frame(_pending, LogRecordType.GroupRemoved, id, _batch, []);
            SyncLocked();
            foreach (var segment in _segments)
            {
                segment.MaxIndex.Remove(id);
            }

            Purge();
        }
    }

    /// <summary>
    /// Writes what every group queued as one batch and waits until it is on disk (one write and one
    /// fdatasync). Nothing queued: nothing to do.
    /// </summary>
    public void Sync()
    {
        lock (_gate)
        {
            SyncLocked();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _current.Dispose();
        }
    }

    internal void Append(RaftLogGroup group, HardState hardState, IReadOnlyList<RaftEntry> entries)
    {
        lock (_gate)
        {
            CheckOpen(group);
            group.InBatch = true;
            foreach (var entry in entries)
            {
                // Encoded straight into the batch: the hot path copies each entry once.
                var length = 17 + entry.Data.Length;
                var record = _pending.GetSpan(HeaderBytes + length);
                EncodeEntry(record[HeaderBytes..], entry);
                WriteHeader(record, LogRecordType.Entry, group.Id, _batch, length);
                _pending.Advance(HeaderBytes + length);
                group.PendingMaxIndex = Math.Max(group.PendingMaxIndex, entry.Index);
            }

            if (entries.Count > 0)
            {
                group.LastIndex = entries[^1].Index;
            }

            if (!hardState.IsEmpty)
            {
                Span<byte> payload = stackalloc byte[24];
                EncodeHardState(payload, hardState);
                Frame(_pending, LogRecordType.HardState, group.Id, _batch, payload);
                group.HardState = hardState;
            }
        }
    }

    internal void AppendSnapshot(RaftLogGroup group, ulong index, ulong term, bool installed)
    {
        lock (_gate)
        {
            CheckOpen(group);
            group.InBatch = true;
            Span<byte> payload = stackalloc byte[17];
            EncodeSnapshot(payload, index, term, installed);
            Frame(_pending, LogRecordType.Snapshot, group.Id, _batch, payload);
            group.Snapshot = (index, term);
            if (installed)
            {
                // Everything the group wrote before is replaced: once this batch is durable, none
                // of it holds a segment (entries queued before the marker included).
                group.PendingMaxIndex = 0;
                group.PendingReset = true;
                group.PendingInstalled = Math.Max(group.PendingInstalled, index);
                group.LastIndex = index;
            }
        }
    }

    /// <summary>Entries up to <paramref name="index"/> are covered by a durable snapshot: deletes segments nobody needs. Returns how many.</summary>
    internal int Release(RaftLogGroup group, ulong index)
    {
        lock (_gate)
        {
            CheckOpen(group);
            group.Released = Math.Max(group.Released, index);
            return Purge();
        }
    }

    private static ulong ParseSeq(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        if (name.Length != 16 || !ulong.TryParse(name, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var seq))
        {
            throw new WalCorruptionException($"unexpected file {path} in the Raft log directory: log segments are named <seq>{Extension}");
        }

        return seq;
    }

    private void CheckOpen(RaftLogGroup group)
    {
        CheckUsable();
        if (group.Removed)
        {
            throw new InvalidOperationException($"Raft group {group.Id} was removed from this log");
        }
    }

    /// <summary>
    /// Once a write or fsync failed, nothing more is written: what the failed batch held may or may
    /// not be on disk, and a retried fsync can report success for pages the kernel already dropped.
    /// Every group then fails at its next call, and its replica stops.
    /// </summary>
    private void CheckUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failed is not null)
        {
            throw new StorageException($"the node's Raft log in {_directory} failed a write earlier ({_failed.Message}); restart the node", _failed);
        }
    }

    private void SyncLocked()
    {
        CheckUsable();
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        try
        {
            if (_current.Length > 0 && _current.Length + _pending.WrittenCount > SegmentBytes)
            {
                Rotate();
            }

            _current.Write(_pending.WrittenSpan);
            _current.Sync();
        }
        catch (Exception e)
        {
            _failed = e;
            throw;
        }

        BytesWritten += _pending.WrittenCount;
        Batches++;
        Syncs++;
        _pending.Clear();
        _batch++;

        // The batch is durable: what it says about each group now holds.
        var segment = _segments[^1];
        foreach (var group in _groups.Values)
        {
            if (group.InBatch)
            {
                GroupsWritten++;
                group.InBatch = false;
            }

            if (group.PendingReset)
            {
                for (var i = 0; i < _segments.Count - 1; i++)
                {
                    _segments[i].MaxIndex.Remove(group.Id);
                }

                // Entries of the replaced log in this segment are dead too, whatever their index.
                group.Released = Math.Max(group.Released, group.PendingInstalled);
                group.PendingReset = false;
                group.PendingInstalled = 0;
            }

            if (group.PendingMaxIndex > 0)
            {
                segment.MaxIndex[group.Id] = Math.Max(segment.MaxIndex.GetValueOrDefault(group.Id), group.PendingMaxIndex);
                group.PendingMaxIndex = 0;
            }

            group.WrittenHardState = group.HardState;
            group.WrittenSnapshot = group.Snapshot;
            group.WrittenLastIndex = group.LastIndex;
        }

        Purge();
    }

    /// <summary>
    /// Closes the current segment and opens the next, then queues rewrites of the groups that hold
    /// older segments with few live entries, so those segments can go once this batch is synced.
    /// </summary>
    private void Rotate()
    {
        _current.Sync();
        _current.Dispose();
        var seg = CreateSegment(_segments[^1].Seq + 1);
        _segments.Add(seg.Segment);
        _current = seg.File;

        foreach (var group in _groups.Values)
        {
            // A group installing a snapshot in this batch drops its old log anyway; a rewrite after
            // the marker would bring the old log back.
            if (group.PendingReset || group.LiveEntries is null || !HoldsOlderSegment(group))
            {
                continue;
            }

            var live = group.LiveEntries().Where(e => e.Index > group.Released).ToList();
            if (live.Sum(e => 21L + e.Data.Length) > SegmentBytes / 4)
            {
                continue; // it will take a snapshot before long
            }

            if (live.Count > 0)
            {
                Frame(_pending, LogRecordType.Rewrite, group.Id, _batch, EncodeRewrite(live));
                group.PendingMaxIndex = Math.Max(group.PendingMaxIndex, live[^1].Index);
            }

            group.PendingReset = true;
            Rewrites++;
        }
    }

    /// <summary>
    /// Whether the group keeps a segment older than the one just closed: a group that writes keeps
    /// the last one or two segments anyway, and copying its log at every rotation would cost more
    /// than the space it frees.
    /// </summary>
    private bool HoldsOlderSegment(RaftLogGroup group)
    {
        for (var i = 0; i < _segments.Count - 2; i++)
        {
            if (_segments[i].MaxIndex.TryGetValue(group.Id, out var max) && group.Keeps(max))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Deletes the oldest segments while no group needs anything in them. Returns how many.</summary>
    private int Purge()
    {
        var removed = 0;
        while (_segments.Count > 1 && !Needed(_segments[0]))
        {
            _files.Delete(_segments[0].Path);
            _segments.RemoveAt(0);
            removed++;
        }

        if (removed > 0)
        {
            _files.SyncDirectory(_directory);
        }

        return removed;
    }

    private bool Needed(LogSegment segment)
    {
        foreach (var (id, max) in segment.MaxIndex)
        {
            if (_groups.TryGetValue(id, out var group) && group.Keeps(max))
            {
                return true;
            }
        }

        return false;
    }

    private (LogSegment Segment, IAppendFile File) CreateSegment(ulong seq)
    {
        var path = Path.Combine(_directory, $"{seq:x16}{Extension}");
        var buffer = new ArrayBufferWriter<byte>(256);
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(header, seq);
        Frame(buffer, LogRecordType.SegmentHeader, 0, _batch, header);

        // Each segment restates where every group stands, as of the last batch written, so older
        // segments can go without losing it (a pending batch follows it and may change it).
        Span<byte> payload = stackalloc byte[24];
        foreach (var group in _groups.Values.OrderBy(g => g.Id))
        {
            if (group.WrittenSnapshot.Index == 0 && group.WrittenHardState.IsEmpty)
            {
                continue; // nothing to restate (its entries, if any, keep their own segments)
            }

            EncodeSnapshot(payload, group.WrittenSnapshot.Index, group.WrittenSnapshot.Term, installed: false);
            Frame(buffer, LogRecordType.Snapshot, group.Id, _batch, payload[..17]);
            if (!group.WrittenHardState.IsEmpty)
            {
                EncodeHardState(payload, group.WrittenHardState);
                Frame(buffer, LogRecordType.HardState, group.Id, _batch, payload);
            }
        }

        var file = _files.Create(path);
        file.Write(buffer.WrittenSpan);
        file.Sync();
        _files.SyncDirectory(_directory);
        BytesWritten += buffer.WrittenCount;
        return (new LogSegment(seq, path), file);
    }
}
