namespace Shortener.Core.Raft;

/// <summary>
/// The log kept in memory, written by the driver after it has persisted the same things to disk
/// (or by the simulator's disk). Holds a dummy entry at the snapshot position so terms of the
/// compaction boundary stay known. Not thread-safe; the driver serialises access.
/// </summary>
public sealed class MemoryRaftStorage : IRaftStorage
{
    private readonly List<RaftEntry> _entries = [new RaftEntry(0, 0, EntryType.Normal, RaftEntry.NoData)];
    private HardState _hardState;
    private RaftSnapshot _snapshot = RaftSnapshot.Empty;

    public ulong FirstIndex => Offset + 1;

    public ulong LastIndex => Offset + (ulong)_entries.Count - 1;

    public HardState HardState => _hardState;

    private ulong Offset => _entries[0].Index;

    public (HardState HardState, ConfState ConfState) InitialState() => (_hardState, _snapshot.Metadata.ConfState);

    public void SetHardState(HardState state) => _hardState = state;

    public IReadOnlyList<RaftEntry> Entries(ulong lo, ulong hi, long maxBytes)
    {
        if (lo <= Offset)
        {
            throw new RaftCompactedException(lo, FirstIndex);
        }

        if (hi > LastIndex + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"entries [{lo}, {hi}) beyond last index {LastIndex}");
        }

        var result = new List<RaftEntry>();
        long size = 0;
        for (var i = lo; i < hi; i++)
        {
            var entry = _entries[(int)(i - Offset)];
            size += entry.PayloadSize;
            if (result.Count > 0 && size > maxBytes)
            {
                break;
            }

            result.Add(entry);
        }

        return result;
    }

    public ulong? Term(ulong index)
    {
        if (index < Offset || index > LastIndex)
        {
            return null;
        }

        return _entries[(int)(index - Offset)].Term;
    }

    public RaftSnapshot Snapshot() => _snapshot;

    /// <summary>Appends entries, replacing any existing suffix that they overlap.</summary>
    public void Append(IReadOnlyList<RaftEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var first = entries[0].Index;
        if (first + (ulong)entries.Count - 1 <= Offset)
        {
            return;
        }

        var skip = first <= Offset ? (int)(Offset + 1 - first) : 0;
        var start = entries[skip].Index;
        if (start > LastIndex + 1)
        {
            throw new InvalidOperationException($"gap in log: appending {start} after last index {LastIndex}");
        }

        _entries.RemoveRange((int)(start - Offset), _entries.Count - (int)(start - Offset));
        for (var i = skip; i < entries.Count; i++)
        {
            _entries.Add(entries[i]);
        }
    }

    /// <summary>
    /// Takes in a Ready's snapshot, entries and hard state once they are durable: the engine reads
    /// them from here from then on (the Ready contract's "append to storage").
    /// </summary>
    public void Publish(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            ApplySnapshot(snapshot);
        }

        Append(ready.Entries);
        if (!ready.HardState.IsEmpty)
        {
            SetHardState(ready.HardState);
        }
    }

    /// <summary>Replaces the whole log with a snapshot (a follower installing one).</summary>
    public void ApplySnapshot(RaftSnapshot snapshot)
    {
        if (snapshot.Metadata.Index <= _snapshot.Metadata.Index)
        {
            throw new InvalidOperationException($"snapshot {snapshot.Metadata.Index} is not newer than {_snapshot.Metadata.Index}");
        }

        _snapshot = snapshot;
        _entries.Clear();
        _entries.Add(new RaftEntry(snapshot.Metadata.Term, snapshot.Metadata.Index, EntryType.Normal, RaftEntry.NoData));
    }

    /// <summary>Records a snapshot the application took at <paramref name="index"/> (which must be applied).</summary>
    public RaftSnapshot CreateSnapshot(ulong index, ConfState confState, byte[] data)
    {
        if (index <= _snapshot.Metadata.Index)
        {
            throw new InvalidOperationException($"snapshot at {index} is not newer than {_snapshot.Metadata.Index}");
        }

        if (index > LastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"snapshot index {index} beyond last index {LastIndex}");
        }

        _snapshot = new RaftSnapshot(new SnapshotMetadata(index, Term(index) ?? throw new InvalidOperationException("compacted"), confState), data);
        return _snapshot;
    }

    /// <summary>Drops entries up to and including <paramref name="index"/>; a snapshot must cover them.</summary>
    public void Compact(ulong index)
    {
        if (index <= Offset)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"compact {index} beyond last index {LastIndex}");
        }

        var keep = _entries[(int)(index - Offset)];
        _entries.RemoveRange(0, (int)(index - Offset));
        _entries[0] = new RaftEntry(keep.Term, keep.Index, EntryType.Normal, RaftEntry.NoData);
    }
}
