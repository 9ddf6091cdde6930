using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Shortener.Core.Raft;
using Shortener.Storage.Files;

namespace Shortener.Storage.Raft;

/// <summary>
/// The Raft write-ahead log: segment files of records, each framed as
/// [u32 payload length][u8 type][u32 batch][u32 CRC-32C of type, batch and payload][payload].
/// Records accumulate in memory and <see cref="Sync"/> writes them as one batch with one fsync
/// (group commit). A segment that passes <see cref="SegmentBytes"/> is closed and a new one opened,
/// starting with the current hard state and snapshot position so it stands on its own; segments
/// wholly below a snapshot are deleted by <see cref="ReleaseTo"/>.
/// On open, a damaged tail (a torn or corrupt last batch) is cut off; damage followed by intact
/// records of a later batch means synced data was lost, and opening fails.
/// </summary>
public sealed class RaftWal : IDisposable
{
    public const string Extension = ".wal";
    public const long DefaultSegmentBytes = 64L << 20;
    private const int HeaderBytes = 13;
    private const int MaxPayloadBytes = 256 << 20;

    private readonly IFileSystem _files;
    private readonly string _directory;
    private readonly List<Segment> _segments;
    private readonly ArrayBufferWriter<byte> _pending = new(4096);
    private IAppendFile _current;
    private uint _batch;
    private HardState _hardState;
    private (ulong Index, ulong Term) _snapshot;
    private HardState _syncedHardState;
    private (ulong Index, ulong Term) _syncedSnapshot;
    private ulong _nextIndex;
    private ulong? _pendingFirstIndex;

    private RaftWal(IFileSystem files, string directory, long segmentBytes, List<Segment> segments, IAppendFile current, uint batch, HardState hardState, (ulong, ulong) snapshot, ulong nextIndex)
    {
        _files = files;
        _directory = directory;
        SegmentBytes = segmentBytes;
        _segments = segments;
        _current = current;
        _batch = batch;
        _hardState = hardState;
        _snapshot = snapshot;
        _syncedHardState = hardState;
        _syncedSnapshot = snapshot;
        _nextIndex = nextIndex;
    }

    public long SegmentBytes { get; }

    public int SegmentCount => _segments.Count;

    /// <summary>fsyncs done (for metrics and the benchmark).</summary>
    public long Syncs { get; private set; }

    /// <param name="fileSystem">Where the segments live (the real disk unless a simulator says otherwise).</param>
    public static (RaftWal Wal, RecoveredRaftState State) Open(string directory, long segmentBytes = DefaultSegmentBytes, IFileSystem? fileSystem = null)
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
            var (good, firstIndex) = ReadSegment(path, seq, data, last, replay);
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

            segments.Add(new Segment(seq, firstIndex, path));
        }

        var state = new RecoveredRaftState(replay.HardState, replay.SnapshotIndex, replay.SnapshotTerm, replay.Entries, truncated, segments.Count);
        var nextIndex = replay.Entries.Count > 0 ? replay.Entries[^1].Index + 1 : replay.SnapshotIndex + 1;
        IAppendFile current;
        if (segments.Count == 0)
        {
            var seg = CreateSegment(fs, directory, 1, nextIndex, replay.HardState, (replay.SnapshotIndex, replay.SnapshotTerm), replay.Batch + 1);
            segments.Add(seg.Segment);
            current = seg.File;
        }
        else
        {
            current = fs.OpenAppend(segments[^1].Path);
        }

        var wal = new RaftWal(fs, directory, segmentBytes, segments, current, replay.Batch + 1, replay.HardState, (replay.SnapshotIndex, replay.SnapshotTerm), nextIndex);
        return (wal, state);
    }

    /// <summary>Queues entries and then (if not empty) the hard state, in that order: a hard state never lands without the entries it covers.</summary>
    public void Append(HardState hardState, IReadOnlyList<RaftEntry> entries)
    {
        foreach (var entry in entries)
        {
            _pendingFirstIndex ??= entry.Index;
            var payload = new byte[17 + entry.Data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), entry.Index);
            payload[16] = (byte)entry.Type;
            entry.Data.CopyTo(payload.AsSpan(17));
            Write(WalRecordType.Entry, payload);
            _nextIndex = entry.Index + 1;
        }

        if (!hardState.IsEmpty)
        {
            Write(WalRecordType.HardState, EncodeHardState(hardState));
            _hardState = hardState;
        }
    }

    /// <summary>Queues a snapshot position: <paramref name="installed"/> replaces the whole log, otherwise entries up to it are dropped.</summary>
    public void AppendSnapshot(ulong index, ulong term, bool installed)
    {
        Write(WalRecordType.Snapshot, EncodeSnapshot(index, term, installed));
        _snapshot = (index, term);
        if (installed || _nextIndex <= index)
        {
            _nextIndex = index + 1;
        }
    }

    /// <summary>Writes what is queued as one batch; with <paramref name="fsync"/>, waits until it is on disk.</summary>
    public void Sync(bool fsync = true)
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        if (_current.Length > 0 && _current.Length + _pending.WrittenCount > SegmentBytes)
        {
            Rotate();
        }

        _current.Write(_pending.WrittenSpan);
        _pending.Clear();
        _pendingFirstIndex = null;
        _syncedHardState = _hardState;
        _syncedSnapshot = _snapshot;
        _batch++;
        if (fsync)
        {
            _current.Sync();
            Syncs++;
        }
        else
        {
            _current.Flush();
        }
    }

    /// <summary>Waits until everything written so far is on disk (fdatasync of the current segment).</summary>
    public void FlushToDisk()
    {
        _current.Sync();
        Syncs++;
    }

    /// <summary>Deletes segments holding nothing above <paramref name="index"/> (a snapshot covers them). Returns how many.</summary>
    public int ReleaseTo(ulong index)
    {
        var removed = 0;
        while (_segments.Count > 1 && _segments[1].FirstIndex <= index + 1)
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

    public void Dispose()
    {
        _current.Dispose();
    }

    private static ulong ParseSeq(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var dash = name.IndexOf('-');
        if (dash != 16 || !ulong.TryParse(name.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var seq))
        {
            throw new WalCorruptionException($"unexpected file {path} in the WAL directory: WAL segments are named <seq>-<index>{Extension}");
        }

        return seq;
    }

    private static (int Good, ulong FirstIndex) ReadSegment(string path, ulong seq, byte[] data, bool last, Replay replay)
    {
        var offset = 0;
        ulong firstIndex = 0;
        var first = true;
        while (offset < data.Length)
        {
            if (!TryRead(data, offset, out var type, out var batch, out var payload, out var size))
            {
                return (Damaged(path, data, offset, last, replay.Batch), firstIndex);
            }

            if (first)
            {
                if (type != WalRecordType.SegmentHeader || BinaryPrimitives.ReadUInt64LittleEndian(payload) != seq)
                {
                    throw new WalCorruptionException($"WAL segment {path} does not start with its own header");
                }

                firstIndex = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
                first = false;
            }
            else
            {
                replay.Apply(type, payload, path);
            }

            replay.Batch = Math.Max(replay.Batch, batch);
            offset += size;
        }

        return (offset, firstIndex);
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
        if (!last)
        {
            throw new WalCorruptionException($"WAL segment {path} is damaged at byte {offset} and later segments follow it: synced log entries are unreadable. Restore this node's data from a replica or a backup.");
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
            ownBatch = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 5));
        }

        for (var p = offset + 1; p + HeaderBytes <= data.Length; p++)
        {
            if (!TryRead(data, p, out _, out var batch, out _, out _) || batch <= lastGoodBatch)
            {
                continue;
            }

            var sameFinalBatch = ownBatch == batch && batch == lastGoodBatch + 1;
            if (!sameFinalBatch)
            {
                throw new WalCorruptionException($"WAL segment {path} is damaged at byte {offset}, but intact records written after it follow at byte {p}: synced log entries are unreadable. Restore this node's data from a replica or a backup.");
            }
        }

        return offset;
    }

    private static bool TryRead(byte[] data, int offset, out WalRecordType type, out uint batch, out ReadOnlySpan<byte> payload, out int size)
    {
        type = default;
        batch = 0;
        payload = default;
        size = 0;
        if (data.Length - offset < HeaderBytes)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
        if (length > MaxPayloadBytes || offset + HeaderBytes + (long)length > data.Length)
        {
            return false;
        }

        type = (WalRecordType)data[offset + 4];
        if (type is < WalRecordType.SegmentHeader or > WalRecordType.Snapshot)
        {
            return false;
        }

        batch = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 5));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 9));
        var checkedSpan = data.AsSpan(offset + 4, 5);
        payload = data.AsSpan(offset + HeaderBytes, (int)length);
        if (Crc32C.Compute(payload, Crc32C.Compute(checkedSpan)) != crc)
        {
            return false;
        }

        size = HeaderBytes + (int)length;
        return true;
    }

    private static (Segment Segment, IAppendFile File) CreateSegment(IFileSystem fs, string directory, ulong seq, ulong firstIndex, HardState hardState, (ulong Index, ulong Term) snapshot, uint batch)
    {
        var path = Path.Combine(directory, $"{seq:x16}-{firstIndex:x16}{Extension}");
        var buffer = new ArrayBufferWriter<byte>(256);
        var header = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(header, seq);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), firstIndex);
        Frame(buffer, WalRecordType.SegmentHeader, batch, header);

        // Each segment restates where the log stands, so older segments can go without losing it.
        Frame(buffer, WalRecordType.Snapshot, batch, EncodeSnapshot(snapshot.Index, snapshot.Term, installed: false));
        if (!hardState.IsEmpty)
        {
            Frame(buffer, WalRecordType.HardState, batch, EncodeHardState(hardState));
        }

        var file = fs.Create(path);
        file.Write(buffer.WrittenSpan);
        file.Sync();
        fs.SyncDirectory(directory);
        return (new Segment(seq, firstIndex, path), file);
    }

    private static void Frame(ArrayBufferWriter<byte> buffer, WalRecordType type, uint batch, ReadOnlySpan<byte> payload)
    {
        var header = buffer.GetSpan(HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        header[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(header[5..], batch);
        var crc = Crc32C.Compute(payload, Crc32C.Compute(header.Slice(4, 5)));
        BinaryPrimitives.WriteUInt32LittleEndian(header[9..], crc);
        buffer.Advance(HeaderBytes);
        buffer.Write(payload);
    }

    private static byte[] EncodeHardState(HardState state)
    {
        var payload = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, state.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), state.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), state.Commit);
        return payload;
    }

    private static byte[] EncodeSnapshot(ulong index, ulong term, bool installed)
    {
        var payload = new byte[17];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), term);
        payload[16] = installed ? (byte)1 : (byte)0;
        return payload;
    }

    private void Write(WalRecordType type, ReadOnlySpan<byte> payload) => Frame(_pending, type, _batch, payload);

    private void Rotate()
    {
        _current.Sync();
        _current.Dispose();
        // Named for the first entry it will hold: the pending batch's, which may rewrite a suffix.
        // It restates the state as of the last written batch, not the pending one (which follows it).
        var first = Math.Min(_pendingFirstIndex ?? _nextIndex, _nextIndex);
        var seg = CreateSegment(_files, _directory, _segments[^1].Seq + 1, first, _syncedHardState, _syncedSnapshot, _batch);
        _segments.Add(seg.Segment);
        _current = seg.File;
    }

    private sealed record Segment(ulong Seq, ulong FirstIndex, string Path);

    /// <summary>Rebuilds the log from records in order.</summary>
    private sealed class Replay
    {
        public HardState HardState { get; private set; }

        public ulong SnapshotIndex { get; private set; }

        public ulong SnapshotTerm { get; private set; }

        public List<RaftEntry> Entries { get; } = [];

        public uint Batch { get; set; }

        private bool _anyEntry;

        public void Apply(WalRecordType type, ReadOnlySpan<byte> payload, string path)
        {
            switch (type)
            {
                case WalRecordType.HardState:
                    HardState = new HardState(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]));
                    break;
                case WalRecordType.Snapshot:
                {
                    var index = BinaryPrimitives.ReadUInt64LittleEndian(payload);
                    var term = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
                    var installed = payload[16] == 1;
                    if (index < SnapshotIndex)
                    {
                        break;
                    }

                    SnapshotIndex = index;
                    SnapshotTerm = term;
                    if (installed)
                    {
                        Entries.Clear();
                    }
                    else
                    {
                        Entries.RemoveAll(e => e.Index <= index);
                    }

                    break;
                }

                case WalRecordType.Entry:
                {
                    var entry = new RaftEntry(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        (EntryType)payload[16],
                        payload[17..].ToArray());
                    if (entry.Index <= SnapshotIndex)
                    {
                        break;
                    }

                    var next = Entries.Count > 0 ? Entries[^1].Index + 1 : SnapshotIndex + 1;
                    if (entry.Index > next && Entries.Count == 0 && !_anyEntry)
                    {
                        // The oldest segments were released: a snapshot marker later in the log
                        // covers everything before this entry (checked again against the snapshot file).
                        next = entry.Index;
                    }

                    _anyEntry = true;
                    if (entry.Index > next)
                    {
                        throw new WalCorruptionException($"WAL {path} jumps from index {next - 1} to {entry.Index}: entries are missing");
                    }

                    if (entry.Index < next)
                    {
                        // A later write replaced this suffix of the log (a new leader's entries); it
                        // may reach below what this replay holds when older segments were released.
                        var drop = (int)Math.Min(next - entry.Index, (ulong)Entries.Count);
                        Entries.RemoveRange(Entries.Count - drop, drop);
                    }

                    Entries.Add(entry);
                    break;
                }
            }
        }
    }
}
