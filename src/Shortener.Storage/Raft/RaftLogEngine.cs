using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Shortener.Core.Raft;
using Shortener.Storage.Files;

namespace Shortener.Storage.Raft;

/// <summary>
/// A node's Raft log: one log that every Raft group on the node (each shard's replica) appends to,
/// as TiKV's raft-engine does, so a driver round writes and fsyncs once for all the shards it
/// touched. Segment files of records, each framed as
/// [u32 payload length][u8 type][u32 group][u32 batch][u32 CRC-32C of type, group, batch and payload][payload].
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
    private const int HeaderBytes = 17;
    private const int MaxPayloadBytes = 256 << 20;

    private readonly Lock _gate = new();
    private readonly IFileSystem _files;
    private readonly string _directory;
    private readonly List<Segment> _segments;
    private readonly Dictionary<uint, RaftLogGroup> _groups;
    private readonly ArrayBufferWriter<byte> _pending = new(64 << 10);
    private IAppendFile _current;
    private uint _batch;
    private bool _disposed;
    private Exception? _failed;

    private RaftLogEngine(IFileSystem files, string directory, long segmentBytes, List<Segment> segments, IAppendFile current, uint batch, Dictionary<uint, RaftLogGroup> groups, long truncated)
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

        var replay = new Replay();
        var segments = new List<Segment>();
        long truncated = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, seq) = files[i];
            var last = i == files.Count - 1;
            var data = fs.ReadAll(path);
            var segment = new Segment(seq, path);
            var good = ReadSegment(segment, segments, data, last, replay);
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

    /// <summary>Replays one segment's records; returns the length of its intact prefix.</summary>
    private static int ReadSegment(Segment segment, List<Segment> earlier, byte[] data, bool last, Replay replay)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            if (!TryRead(data, offset, out var record))
            {
                return Damaged(segment.Path, data, offset, last, replay.Batch);
            }

            if (offset == 0)
            {
                if (record.Type != LogRecordType.SegmentHeader || BinaryPrimitives.ReadUInt64LittleEndian(record.Payload) != segment.Seq)
                {
                    throw new WalCorruptionException($"Raft log segment {segment.Path} does not start with its own header");
                }
            }
            else
            {
                var (maxIndex, resets) = replay.Apply(record.Type, record.Group, record.Payload, segment.Path);
                if (resets)
                {
                    // What the group wrote in earlier segments is replaced or restated: it keeps none of them.
                    earlier.ForEach(s => s.MaxIndex.Remove(record.Group));
                }

                if (record.Type == LogRecordType.GroupRemoved)
                {
                    segment.MaxIndex.Remove(record.Group);
                }
                else if (maxIndex > 0)
                {
                    segment.MaxIndex[record.Group] = Math.Max(segment.MaxIndex.GetValueOrDefault(record.Group), maxIndex);
                }
            }

            replay.Batch = Math.Max(replay.Batch, record.Batch);
            offset += record.Size;
        }

        return offset;
    }

    /// <summary>
    /// A record at <paramref name="offset"/> is damaged. At the tail of the last segment, that is an
    /// interrupted write (or rot in the last batch, which looks the same): cut there. Anywhere else,
    /// or if an intact record of a later batch follows, stop: batches are synced one after another,
    /// so the damaged bytes were synced (and maybe acknowledged) before that record was written.
    /// Intact records of the damaged record's own batch may follow it (sectors of one write land in
    /// any order); its batch is read from its header when that still looks whole.
    /// </summary>
    private static int Damaged(string path, byte[] data, int offset, bool last, uint lastGoodBatch)
    {
        var whose = data.Length - offset >= HeaderBytes
            ? $"a record of shard group {BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 5))} (if its header is intact)"
            : "a record header cut short";
        if (!last)
        {
            throw new WalCorruptionException($"Raft log segment {path} is damaged at byte {offset} ({whose}) and later segments follow it: synced log entries are unreadable. Restore this node's data from a replica or a backup.");
        }

        uint? ownBatch = null;
        if (data.Length - offset >= HeaderBytes && !data.AsSpan(offset, HeaderBytes).ContainsAnyExcept((byte)0))
        {
            // Zeros where a header should be: a sector that was never written, so this is the
            // start of the unfinished last batch.
            ownBatch = lastGoodBatch + 1;
        }
        else if (data.Length - offset >= HeaderBytes && offset + HeaderBytes + (long)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset)) <= data.Length)
        {
            ownBatch = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 9));
        }

        for (var p = offset + 1; p + HeaderBytes <= data.Length; p++)
        {
            if (!TryRead(data, p, out var record) || record.Batch <= lastGoodBatch)
            {
                continue;
            }

            var sameFinalBatch = ownBatch == record.Batch && record.Batch == lastGoodBatch + 1;
            if (!sameFinalBatch)
            {
                throw new WalCorruptionException($"Raft log segment {path} is damaged at byte {offset} ({whose}), but intact records written after it follow at byte {p}: synced log entries are unreadable. Restore this node's data from a replica or a backup.");
            }
        }

        return offset;
    }

    private static bool TryRead(byte[] data, int offset, out Record record)
    {
        record = default;
        if (data.Length - offset < HeaderBytes)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
        if (length > MaxPayloadBytes || offset + HeaderBytes + (long)length > data.Length)
        {
            return false;
        }

        var type = (LogRecordType)data[offset + 4];
        if (type is < LogRecordType.SegmentHeader or > LogRecordType.GroupRemoved)
        {
            return false;
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 13));
        var payload = data.AsSpan(offset + HeaderBytes, (int)length);
        if (Crc32C.Compute(payload, Crc32C.Compute(data.AsSpan(offset + 4, 9))) != crc)
        {
            return false;
        }

        record = new Record(
            type,
            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 5)),
            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 9)),
            new ReadOnlyMemory<byte>(data, offset + HeaderBytes, (int)length),
            HeaderBytes + (int)length);
        return true;
    }

    private static void Frame(ArrayBufferWriter<byte> buffer, LogRecordType type, uint group, uint batch, ReadOnlySpan<byte> payload)
    {
        var span = buffer.GetSpan(HeaderBytes + payload.Length);
        payload.CopyTo(span[HeaderBytes..]);
        WriteHeader(span, type, group, batch, payload.Length);
        buffer.Advance(HeaderBytes + payload.Length);
    }

    private static void WriteHeader(Span<byte> record, LogRecordType type, uint group, uint batch, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payloadLength);
        record[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(record[5..], group);
        BinaryPrimitives.WriteUInt32LittleEndian(record[9..], batch);
        var crc = Crc32C.Compute(record.Slice(HeaderBytes, payloadLength), Crc32C.Compute(record.Slice(4, 9)));
        BinaryPrimitives.WriteUInt32LittleEndian(record[13..], crc);
    }

    private static void EncodeEntry(Span<byte> payload, RaftEntry entry)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], entry.Index);
        payload[16] = (byte)entry.Type;
        entry.Data.CopyTo(payload[17..]);
    }

    private static RaftEntry DecodeEntry(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
        (EntryType)payload[16],
        payload[17..].ToArray());

    private static void EncodeHardState(Span<byte> payload, HardState state)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, state.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], state.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], state.Commit);
    }

    private static void EncodeSnapshot(Span<byte> payload, ulong index, ulong term, bool installed)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], term);
        payload[16] = installed ? (byte)1 : (byte)0;
    }

    /// <summary>A group's live entries as one record: [u32 count] then, per entry, [u32 length][entry].</summary>
    private static byte[] EncodeRewrite(IReadOnlyList<RaftEntry> entries)
    {
        var size = 4 + entries.Sum(e => 4 + 17 + e.Data.Length);
        var payload = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)entries.Count);
        var at = 4;
        foreach (var entry in entries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(at), (uint)(17 + entry.Data.Length));
            EncodeEntry(payload.AsSpan(at + 4), entry);
            at += 4 + 17 + entry.Data.Length;
        }

        return payload;
    }

    private static List<RaftEntry> DecodeRewrite(ReadOnlySpan<byte> payload, string path)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var entries = new List<RaftEntry>((int)Math.Min(count, 1 << 16));
        var at = 4;
        for (var i = 0u; i < count; i++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[at..]);
            if (length < 17 || at + 4 + length > payload.Length)
            {
                throw new WalCorruptionException($"a rewrite record in {path} is malformed");
            }

            entries.Add(DecodeEntry(payload.Slice(at + 4, length)));
            at += 4 + length;
        }

        return entries;
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

    private bool Needed(Segment segment)
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

    private (Segment Segment, IAppendFile File) CreateSegment(ulong seq)
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
        return (new Segment(seq, path), file);
    }

    private readonly record struct Record(LogRecordType Type, uint Group, uint Batch, ReadOnlyMemory<byte> Memory, int Size)
    {
        public ReadOnlySpan<byte> Payload => Memory.Span;
    }

    /// <summary>A segment file and, per group, the highest entry index it holds (what keeps it).</summary>
    private sealed class Segment(ulong seq, string path)
    {
        public ulong Seq { get; } = seq;

        public string Path { get; } = path;

        public Dictionary<uint, ulong> MaxIndex { get; } = [];
    }

    /// <summary>Rebuilds every group's log from the records in order.</summary>
    private sealed class Replay
    {
        public Dictionary<uint, GroupReplay> Groups { get; } = [];

        public uint Batch { get; set; }

        /// <summary>
        /// Applies one record; returns the highest entry index it wrote (0: none) and whether it
        /// makes everything the group wrote before it dead or restated (a removal, an installed
        /// snapshot, a rewrite).
        /// </summary>
        public (ulong MaxIndex, bool Resets) Apply(LogRecordType type, uint id, ReadOnlySpan<byte> payload, string path)
        {
            if (type == LogRecordType.GroupRemoved)
            {
                Groups.Remove(id);
                return (0, true);
            }

            if (!Groups.TryGetValue(id, out var group))
            {
                group = new GroupReplay(id);
                Groups[id] = group;
            }

            var resets = type == LogRecordType.Rewrite || (type == LogRecordType.Snapshot && payload[16] == 1);
            return (group.Apply(type, payload, path), resets);
        }
    }

    /// <summary>One group's log as the replay has rebuilt it so far.</summary>
    private sealed class GroupReplay(uint id)
    {
        private readonly List<RaftEntry> _entries = [];
        private HardState _hardState;
        private ulong _snapshotIndex;
        private ulong _snapshotTerm;
        private bool _anyEntry;

        public RecoveredRaftState ToRecovered(long truncated, int segments) =>
            new(_hardState, _snapshotIndex, _snapshotTerm, _entries, truncated, segments);

        public ulong Apply(LogRecordType type, ReadOnlySpan<byte> payload, string path)
        {
            switch (type)
            {
                case LogRecordType.HardState:
                    _hardState = new HardState(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]));
                    return 0;
                case LogRecordType.Snapshot:
                    ApplySnapshot(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        installed: payload[16] == 1);
                    return 0;
                case LogRecordType.Entry:
                {
                    var entry = DecodeEntry(payload);
                    ApplyEntry(entry, path);
                    return entry.Index;
                }

                case LogRecordType.Rewrite:
                {
                    var entries = DecodeRewrite(payload, path);
                    FillBelow(entries, path);
                    return entries.Count > 0 ? entries[^1].Index : 0;
                }

                default:
                    return 0;
            }
        }

        private void ApplySnapshot(ulong index, ulong term, bool installed)
        {
            if (index < _snapshotIndex)
            {
                return;
            }

            _snapshotIndex = index;
            _snapshotTerm = term;
            if (installed)
            {
                _entries.Clear();
            }
            else
            {
                _entries.RemoveAll(e => e.Index <= index);
            }
        }

        private void ApplyEntry(RaftEntry entry, string path)
        {
            if (entry.Index <= _snapshotIndex)
            {
                return;
            }

            var next = _entries.Count > 0 ? _entries[^1].Index + 1 : _snapshotIndex + 1;
            if (entry.Index > next && _entries.Count == 0 && !_anyEntry)
            {
                // The oldest segments were deleted: a snapshot marker later in the log covers
                // everything before this entry, or a rewrite later fills it in (both checked
                // again against the snapshot file).
                next = entry.Index;
            }

            _anyEntry = true;
            if (entry.Index > next)
            {
                throw new WalCorruptionException($"the Raft log of shard group {id} in {path} jumps from index {next - 1} to {entry.Index}: entries are missing");
            }

            if (entry.Index < next)
            {
                // A later write replaced this suffix of the log (a new leader's entries); it may
                // reach below what this replay holds when older segments were deleted.
                var drop = (int)Math.Min(next - entry.Index, (ulong)_entries.Count);
                _entries.RemoveRange(_entries.Count - drop, drop);
            }

            _entries.Add(entry);
        }

        /// <summary>
        /// A rewrite restates the live log as it was when written; records replayed before it are
        /// at least as new, so it only fills in what lies below the first entry held.
        /// </summary>
        private void FillBelow(List<RaftEntry> rewritten, string path)
        {
            var first = _entries.Count > 0 ? _entries[0].Index : ulong.MaxValue;
            var below = rewritten.Where(e => e.Index > _snapshotIndex && e.Index < first).ToList();
            if (below.Count == 0)
            {
                return;
            }

            if (_entries.Count > 0 && below[^1].Index + 1 != first)
            {
                throw new WalCorruptionException($"a rewrite of shard group {id}'s log in {path} ends at index {below[^1].Index} but its log resumes at {first}: entries are missing");
            }

            _entries.InsertRange(0, below);
            _anyEntry = true;
        }
    }
}
