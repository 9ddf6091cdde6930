using System.Buffers.Binary;
using System.Globalization;
using Shortener.Storage.Raft;

namespace Shortener.Storage.Clicks;

/// <summary>
/// The durable local outbox of the redirect path: clicks are appended here (never waiting for the
/// click store) and a relay ships them, then acknowledges. Append-only segment files of records
/// framed as [u32 payload length][u64 sequence][u32 CRC-32C of sequence and payload][payload].
/// <see cref="Append"/> writes the record to the file at once (one write call, no fsync), so a
/// record that was appended outlives the process: a kill -9 loses nothing, since the page cache
/// outlives it. <see cref="Flush"/> fsyncs (group commit: one fsync covers every record written
/// since the last), after which a record outlives a power loss too. Sequences only grow, across
/// restarts too. <see cref="Acknowledge"/> records how far the relay got (a small file replaced
/// atomically; never past what is fsynced) and deletes segments wholly behind it; records after it
/// are read again after a restart (at least once: the store deduplicates by event id).
/// On open, damage in the last segment is cut off from there (<see cref="RepairedBytes"/> says how
/// much); damage in an earlier segment throws <see cref="OutboxCorruptionException"/>.
/// </summary>
public sealed class ClickOutbox : Shortener.Core.Clicks.IClickOutbox, IDisposable
{
    public const long DefaultSegmentBytes = 8L << 20;
    private const string Extension = ".outbox";
    private const string AckedFile = "acked";
    private const int HeaderBytes = 16;
    private const int MaxPayloadBytes = 1 << 20;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Lock _lock = new();
    private readonly List<(long FirstSeq, string Path)> _segments;
    private readonly Lock _flushLock = new();
    private readonly Lock _ackLock = new();
    private byte[] _record = new byte[256];
    private FileStream _current;
    private long _currentLength;
    private long _nextSeq;
    private long _writtenSeq;
    private long _durableSeq;
    private long _acked;
    private (long Seq, int Segment, long Offset) _cursor;
    private bool _disposed;

    private ClickOutbox(string directory, long segmentBytes, List<(long, string)> segments, FileStream current, long lastSeq, long acked)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        _segments = segments;
        _current = current;
        _currentLength = current.Length;
        _nextSeq = lastSeq + 1;
        _writtenSeq = lastSeq;
        _durableSeq = lastSeq;
        _acked = acked;
        _cursor = (0, 0, 0);
    }

    /// <summary>The last sequence the relay acknowledged.</summary>
    public long Acknowledged
    {
        get
        {
            lock (_lock)
            {
                return _acked;
            }
        }
    }

    /// <summary>The last sequence fsynced (it outlives a power loss; everything appended outlives a process crash).</summary>
    public long Durable
    {
        get
        {
            lock (_lock)
            {
                return _durableSeq;
            }
        }
    }

    /// <summary>Records appended but not yet acknowledged.</summary>
    public long Depth
    {
        get
        {
            lock (_lock)
            {
                return _nextSeq - 1 - _acked;
            }
        }
    }

    public int SegmentCount
    {
        get
        {
            lock (_lock)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>Bytes of a damaged tail cut off when the outbox was opened (0 when it was intact).</summary>
    public long RepairedBytes { get; private init; }

    /// <summary>fsyncs done.</summary>
    public long Syncs { get; private set; }

    public static ClickOutbox Open(string directory, long segmentBytes = DefaultSegmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentBytes, HeaderBytes + 1);
        Directory.CreateDirectory(directory);
        var acked = ReadAcked(directory);
        var files = Directory.GetFiles(directory, "*" + Extension)
            .Select(path => (Path: path, First: long.Parse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture)))
            .OrderBy(f => f.First)
            .ToList();
        var segments = new List<(long, string)>();
        var last = acked;
        long repaired = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, first) = files[i];
            var data = File.ReadAllBytes(path);
            var (good, lastInFile) = Scan(data, path, isLast: i == files.Count - 1);
            if (good < data.Length)
            {
                repaired += data.Length - good;
                using var repair = new FileStream(path, FileMode.Open, FileAccess.Write);
                repair.SetLength(good);
                repair.Flush(flushToDisk: true);
            }

            last = Math.Max(last, lastInFile ?? first - 1);
            segments.Add((first, path));
        }

        if (segments.Count == 0)
        {
            segments.Add((last + 1, SegmentPath(directory, last + 1)));
        }

        var current = OpenSegment(segments[^1].Item2, FileMode.Append);
        // What a crashed process wrote is in the page cache, not necessarily on disk: sync it, so
        // what counts as durable from here on is.
        current.Flush(flushToDisk: true);
        DirectorySync.Fsync(directory);
        return new ClickOutbox(directory, segmentBytes, segments, current, last, acked) { RepairedBytes = repaired };
    }

    /// <summary>Writes one record to its segment (it outlives the process from here; a power loss only after the next <see cref="Flush"/>). Returns its sequence.</summary>
    /// <exception cref="IOException">The write failed (a full disk): the segment is cut back and the record is not in the outbox.</exception>
    public long Append(ReadOnlySpan<byte> payload)
    {
        if (payload.Length is 0 or > MaxPayloadBytes)
        {
            throw new ArgumentException($"an outbox record is 1 byte to {MaxPayloadBytes} bytes (got {payload.Length})", nameof(payload));
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var seq = _nextSeq;
            if (_record.Length < HeaderBytes + payload.Length)
            {
                _record = new byte[HeaderBytes + payload.Length];
            }

            var record = _record.AsSpan(0, HeaderBytes + payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payload.Length);
            BinaryPrimitives.WriteInt64LittleEndian(record[4..], seq);
            payload.CopyTo(record[HeaderBytes..]);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], Crc32C.Compute(payload, Crc32C.Compute(record.Slice(4, 8))));
            try
            {
                _current.Write(record);
            }
            catch (IOException)
            {
                CutBack(_currentLength);
                throw;
            }

            _currentLength += record.Length;
            _nextSeq++;
            _writtenSeq = seq;
            if (_currentLength >= _segmentBytes)
            {
                RollOver(seq + 1);
            }

            return seq;
        }
    }

    /// <summary>
    /// fsyncs the current segment once: every record appended before the call is then durable
    /// (group commit). Appends go on meanwhile; only flushes wait for each other.
    /// </summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            FileStream file;
            long upTo;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_writtenSeq == _durableSeq)
                {
                    return;
                }

                (file, upTo) = (_current, _writtenSeq);
            }

            try
            {
                file.Flush(flushToDisk: true);
            }
            catch (ObjectDisposedException)
            {
                // The segment filled up meanwhile, and was synced before it was closed.
            }

            Syncs++;
            lock (_lock)
            {
                _durableSeq = Math.Max(_durableSeq, upTo);
            }
        }
    }

    /// <summary>
    /// Starts the next segment. The new file is open before the full one is closed (synced first,
    /// so a flush never has to find it again): if it cannot be made, appends go on into the full
    /// segment and the next append tries again.
    /// </summary>
    private void RollOver(long firstSeq)
    {
        var path = SegmentPath(_directory, firstSeq);
        FileStream next;
        try
        {
            _current.Flush(flushToDisk: true);
            next = OpenSegment(path, File.Exists(path) ? FileMode.Truncate : FileMode.CreateNew);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The record that filled the segment is written; the segment just grows past its size for now.
            return;
        }

        _current.Dispose();
        _current = next;
        _currentLength = 0;
        _segments.Add((firstSeq, path));
        DirectorySync.Fsync(_directory);
    }

    /// <summary>After a failed write: the segment back to its old length (a partial record would read as a torn tail).</summary>
    private void CutBack(long length)
    {
        var path = _segments[^1].Path;
        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                file.SetLength(length);
            }

            var reopened = OpenSegment(path, FileMode.Append);
            try
            {
                _current.Dispose();
            }
            catch (IOException)
            {
            }

            _current = reopened;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The file could not even be cut back: a partial record stays and reads as a torn tail at the next open.
        }
    }

    /// <summary>A segment opened for appending without a buffer: each record is one write call.</summary>
    private static FileStream OpenSegment(string path, FileMode mode) => new(path, mode, FileAccess.Write, FileShare.Read, bufferSize: 0);

    /// <summary>Up to <paramref name="max"/> records after sequence <paramref name="after"/>, in order.</summary>
    public IReadOnlyList<(long Seq, byte[] Payload)> Read(long after, int max)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var records = new List<(long, byte[])>();
            after = Math.Max(after, _acked);
            var (segment, offset) = _cursor.Seq == after && _cursor.Segment < _segments.Count && _segments[_cursor.Segment].FirstSeq <= after + 1
                ? (_cursor.Segment, _cursor.Offset)
                : (Math.Max(0, _segments.FindLastIndex(s => s.FirstSeq <= after + 1)), 0L);
            while (records.Count < max && segment < _segments.Count)
            {
                using var file = new FileStream(_segments[segment].Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.Position = offset;
                var header = new byte[HeaderBytes];
                while (records.Count < max && file.Length - file.Position >= HeaderBytes)
                {
                    file.ReadExactly(header);
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
                    var seq = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(4));
                    if (seq > _writtenSeq || file.Length - file.Position < length)
                    {
                        file.Position -= HeaderBytes;
                        break;
                    }

                    var payload = new byte[length];
                    file.ReadExactly(payload);
                    if (seq > after)
                    {
                        records.Add((seq, payload));
                        after = seq;
                    }
                }

                offset = file.Position;
                if (records.Count < max && segment < _segments.Count - 1)
                {
                    segment++;
                    offset = 0;
                }
                else
                {
                    break;
                }
            }

            _cursor = (after, segment, offset);
            return records;
        }
    }

    /// <summary>The relay shipped everything up to <paramref name="upTo"/>: remembered, and segments wholly behind it deleted.</summary>
    public void Acknowledge(long upTo)
    {
        // The file work happens outside the append lock: a redirect never waits for this fsync.
        lock (_ackLock)
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                upTo = Math.Min(upTo, _durableSeq);
                if (upTo <= _acked)
                {
                    return;
                }
            }

            var temp = Path.Combine(_directory, AckedFile + ".tmp");
            var bytes = new byte[12];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, upTo);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Crc32C.Compute(bytes.AsSpan(0, 8)));
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(_directory, AckedFile), overwrite: true);

            // A segment is behind the acknowledgement when the next one starts at or before upTo + 1.
            var behind = new List<string>();
            lock (_lock)
            {
                _acked = upTo;
                while (_segments.Count > 1 && _segments[1].FirstSeq <= upTo + 1)
                {
                    behind.Add(_segments[0].Path);
                    _segments.RemoveAt(0);
                }

                if (behind.Count > 0)
                {
                    _cursor = (0, 0, 0);
                }
            }

            foreach (var path in behind)
            {
                File.Delete(path);
            }

            if (behind.Count > 0)
            {
                DirectorySync.Fsync(_directory);
            }
        }
    }

    /// <summary>Syncs what was appended (a graceful stop loses nothing, even to a power loss after it), then closes.</summary>
    public void Dispose()
    {
        lock (_flushLock)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                Flush();
            }
            finally
            {
                lock (_lock)
                {
                    _disposed = true;
                    _current.Dispose();
                }
            }
        }
    }

    private static string SegmentPath(string directory, long firstSeq) =>
        Path.Combine(directory, firstSeq.ToString("D19", CultureInfo.InvariantCulture) + Extension);

    private static long ReadAcked(string directory)
    {
        var path = Path.Combine(directory, AckedFile);
        if (!File.Exists(path))
        {
            return 0;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != 12 || Crc32C.Compute(bytes.AsSpan(0, 8)) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)))
        {
            // Synced, then renamed into place, so not torn by a crash; damaged means the disk lost
            // it. Starting from 0 resends what is still in the segments: duplicates the store
            // drops, never a loss.
            return 0;
        }

        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>The length of the intact prefix and the last sequence in it.</summary>
    private static (long Good, long? LastSeq) Scan(byte[] data, string path, bool isLast)
    {
        long offset = 0;
        long? last = null;
        while (offset < data.Length)
        {
            var damaged = data.Length - offset < HeaderBytes;
            var length = 0;
            if (!damaged)
            {
                length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)offset));
                var seq = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan((int)offset + 4));
                damaged = length is 0 or > MaxPayloadBytes
                    || data.Length - offset - HeaderBytes < length
                    || Crc32C.Compute(data.AsSpan((int)offset + HeaderBytes, length), Crc32C.Compute(data.AsSpan((int)offset + 4, 8))) != BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)offset + 12))
                    || (last is { } previous && seq != previous + 1);
                if (!damaged)
                {
                    last = seq;
                    offset += HeaderBytes + length;
                    continue;
                }
            }

            // Damage in the last segment is cut off there: a kill -9 cannot tear a write (the page
            // cache outlives the process), so this is a power loss in the middle of the last flush,
            // whose records nobody was promised. Earlier segments were all synced: damage there
            // means lost records, which is refused rather than silently skipped.
            if (!isLast)
            {
                throw new OutboxCorruptionException($"click outbox segment {path} is damaged at byte {offset}, and it is not the last: records synced there are lost. Move the outbox directory aside to start it empty (its clicks are then not counted).");
            }

            return (offset, last);
        }

        return (offset, last);
    }
}
