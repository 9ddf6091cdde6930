using System.Buffers.Binary;
using Shortener.Core.Raft;
using static Shortener.Storage.Raft.LogRecordFormat;

namespace Shortener.Storage.Raft;

/// <summary>Rebuilds every group's log from the records in order.</summary>
internal sealed class LogReplay
{
    public Dictionary<uint, GroupReplay> Groups { get; } = [];

    public uint Batch { get; set; }

    /// <summary>Replays one segment's records; returns the length of its intact prefix.</summary>
    public int ReadSegment(LogSegment segment, List<LogSegment> earlier, byte[] data, bool last)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            if (!TryRead(data, offset, out var record))
            {
                return Damaged(segment.Path, data, offset, last, Batch);
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
                var (maxIndex, resets) = Apply(record.Type, record.Group, record.Payload, segment.Path);
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

            Batch = Math.Max(Batch, record.Batch);
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
internal sealed class GroupReplay(uint id)
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
