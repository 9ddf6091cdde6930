namespace Shortener.Core.Raft;

/// <summary>
/// The replica's log: durable entries in <see cref="IRaftStorage"/>, newer ones in the
/// <see cref="UnstableLog"/>, plus the commit and apply positions.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftStorage _storage;
    private readonly UnstableLog _unstable;
    private readonly bool _applyPastCommit;

    /// <summary>A log over <paramref name="storage"/>: everything up to its snapshot counts as committed and applied.</summary>
    /// <param name="applyPastCommit">The planted bug <see cref="RaftBugs.ApplyPastCommit"/>.</param>
    public RaftLog(IRaftStorage storage, bool applyPastCommit = false)
    {
        _storage = storage;
        _applyPastCommit = applyPastCommit;
        _unstable = new UnstableLog(storage.LastIndex + 1);
        Committed = storage.FirstIndex - 1;
        Applied = storage.FirstIndex - 1;
    }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public UnstableLog Unstable => _unstable;

    public ulong FirstIndex => _unstable.MaybeFirstIndex() ?? _storage.FirstIndex;

    public ulong LastIndex => _unstable.MaybeLastIndex() ?? _storage.LastIndex;

    public ulong LastTerm => Term(LastIndex) ?? throw new InvalidOperationException($"term of last index {LastIndex} unknown");

    /// <summary>The last index that is durable locally and can therefore be applied.</summary>
    public ulong StableLastIndex => _unstable.Snapshot is not null ? 0 : _unstable.Offset - 1;

    /// <summary>The term of <paramref name="index"/>, or null if compacted or beyond the end.</summary>
    public ulong? Term(ulong index)
    {
        var dummy = FirstIndex - 1;
        if (index < dummy || index > LastIndex)
        {
            return null;
        }

        return _unstable.MaybeTerm(index) ?? _storage.Term(index);
    }

    public bool MatchTerm(ulong index, ulong term) => Term(index) == term;

    /// <summary>Raft §5.4.1: a log is at least as up to date if its last term is higher, or equal with an index at least as high.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong term) => term > LastTerm || (term == LastTerm && lastIndex >= LastIndex);

    /// <summary>
    /// Follower side of an append: if the entry at <paramref name="prevIndex"/> has
    /// <paramref name="prevTerm"/>, append what is new (replacing a conflicting suffix) and move the
    /// commit index. Returns the index of the last new entry, or null on a mismatch.
    /// </summary>
    public ulong? MaybeAppend(ulong prevIndex, ulong prevTerm, ulong committed, IReadOnlyList<RaftEntry> entries)
    {
        if (!MatchTerm(prevIndex, prevTerm))
        {
            return null;
        }

        var lastNew = prevIndex + (ulong)entries.Count;
        var conflict = FindConflict(entries);
        if (conflict != 0)
        {
            if (conflict <= Committed)
            {
                throw new InvalidOperationException($"entry {conflict} conflicts with committed entry (committed {Committed})");
            }

            var skip = (int)(conflict - (prevIndex + 1));
            Append(entries.Skip(skip).ToList());
        }

        CommitTo(Math.Min(committed, lastNew));
        return lastNew;
    }

    /// <summary>The index of the first entry whose term differs from ours (or that we lack); 0 if all match.</summary>
    public ulong FindConflict(IReadOnlyList<RaftEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (!MatchTerm(entry.Index, entry.Term))
            {
                return entry.Index;
            }
        }

        return 0;
    }

    /// <summary>
    /// The largest index at or below <paramref name="index"/> whose term is at most
    /// <paramref name="term"/>, and that term: where a log with last entry (index, term) may match
    /// ours. Used to skip whole terms on a rejected append.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        for (; index > 0; index--)
        {
            var t = Term(index);
            if (t is null)
            {
                // Compacted: the best we can say is "somewhere at or below here".
                return (index, 0);
            }

            if (t <= term)
            {
                return (index, t.Value);
            }
        }

        return (0, 0);
    }

    public ulong Append(IReadOnlyList<RaftEntry> entries)
    {
        if (entries.Count == 0)
        {
            return LastIndex;
        }

        if (entries[0].Index - 1 < Committed)
        {
            throw new InvalidOperationException($"appending after {entries[0].Index - 1} would overwrite committed {Committed}");
        }

        _unstable.TruncateAndAppend(entries);
        return LastIndex;
    }

    public void CommitTo(ulong index)
    {
        if (index > Committed)
        {
            if (index > LastIndex)
            {
                throw new InvalidOperationException($"commit {index} beyond last index {LastIndex}");
            }

            Committed = index;
        }
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0)
        {
            return;
        }

        if ((index > Committed && !_applyPastCommit) || index < Applied)
        {
            throw new InvalidOperationException($"applied {index} outside [{Applied}, {Committed}]");
        }

        Applied = index;
    }

    public void StableTo(ulong index, ulong term) => _unstable.StableTo(index, term);

    public void StableSnapshotTo(ulong index) => _unstable.StableSnapshotTo(index);

    /// <summary>Leader: commit <paramref name="index"/> if it is of <paramref name="term"/> (or, with the planted bug, of any term).</summary>
    public bool MaybeCommit(ulong index, ulong term, bool anyTerm)
    {
        if (index > Committed && (anyTerm || Term(index) == term))
        {
            CommitTo(index);
            return true;
        }

        return false;
    }

    public bool HasNextCommittedEntries => Applied < ApplyLimit;

    public IReadOnlyList<RaftEntry> NextCommittedEntries(long maxBytes)
    {
        var hi = ApplyLimit;
        return Applied < hi ? Slice(Applied + 1, hi + 1, maxBytes) : [];
    }

    /// <summary>How far entries may be applied: committed and durable here.</summary>
    private ulong ApplyLimit => _applyPastCommit ? StableLastIndex : Math.Min(Committed, StableLastIndex);

    public IReadOnlyList<RaftEntry> UnstableEntries => _unstable.Entries;

    public RaftSnapshot? UnstableSnapshot => _unstable.Snapshot;

    public RaftSnapshot Snapshot() => _unstable.Snapshot ?? _storage.Snapshot();

    public void Restore(RaftSnapshot snapshot)
    {
        Committed = snapshot.Metadata.Index;
        _unstable.Restore(snapshot);
    }

    /// <summary>Entries [lo, hi) up to <paramref name="maxBytes"/> (at least one). Throws <see cref="RaftCompactedException"/> below the first index.</summary>
    public IReadOnlyList<RaftEntry> Slice(ulong lo, ulong hi, long maxBytes)
    {
        if (lo == hi)
        {
            return [];
        }

        if (lo < FirstIndex)
        {
            throw new RaftCompactedException(lo, FirstIndex);
        }

        if (hi > LastIndex + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"slice [{lo}, {hi}) beyond last index {LastIndex}");
        }

        var result = new List<RaftEntry>();
        if (lo < _unstable.Offset)
        {
            var stored = _storage.Entries(lo, Math.Min(hi, _unstable.Offset), maxBytes);
            result.AddRange(stored);
            if ((ulong)stored.Count < Math.Min(hi, _unstable.Offset) - lo)
            {
                return result;
            }
        }

        if (hi > _unstable.Offset)
        {
            var from = Math.Max(lo, _unstable.Offset);
            long size = result.Sum(e => (long)e.PayloadSize);
            foreach (var entry in _unstable.Slice(from, hi))
            {
                size += entry.PayloadSize;
                if (result.Count > 0 && size > maxBytes)
                {
                    break;
                }

                result.Add(entry);
            }
        }

        return result;
    }
}
