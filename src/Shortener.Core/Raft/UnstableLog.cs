namespace Shortener.Core.Raft;

/// <summary>
/// The part of the log not yet persisted: entries from <see cref="Offset"/> on, and possibly a
/// snapshot received from the leader. Everything before <see cref="Offset"/> is in storage.
/// </summary>
internal sealed class UnstableLog(ulong offset)
{
    private readonly List<RaftEntry> _entries = [];

    public ulong Offset { get; private set; } = offset;

    public RaftSnapshot? Snapshot { get; private set; }

    public IReadOnlyList<RaftEntry> Entries => _entries;

    public ulong? MaybeFirstIndex() => Snapshot is { } s ? s.Metadata.Index + 1 : null;

    public ulong? MaybeLastIndex()
    {
        if (_entries.Count > 0)
        {
            return Offset + (ulong)_entries.Count - 1;
        }

        return Snapshot?.Metadata.Index;
    }

    public ulong? MaybeTerm(ulong index)
    {
        if (index < Offset)
        {
            if (Snapshot is { } s && s.Metadata.Index == index)
            {
                return s.Metadata.Term;
            }

            return null;
        }

        var last = MaybeLastIndex();
        if (last is null || index > last)
        {
            return null;
        }

        return _entries[(int)(index - Offset)].Term;
    }

    /// <summary>Entries up to <paramref name="index"/> (of <paramref name="term"/>) are now durable.</summary>
    public void StableTo(ulong index, ulong term)
    {
        var t = MaybeTerm(index);
        if (t is null || index < Offset)
        {
            return;
        }

        // Only if the entry was not replaced meanwhile by one of a newer term.
        if (t == term)
        {
            _entries.RemoveRange(0, (int)(index + 1 - Offset));
            Offset = index + 1;
        }
    }

    public void StableSnapshotTo(ulong index)
    {
        if (Snapshot is { } s && s.Metadata.Index == index)
        {
            Snapshot = null;
        }
    }

    public void Restore(RaftSnapshot snapshot)
    {
        Offset = snapshot.Metadata.Index + 1;
        _entries.Clear();
        Snapshot = snapshot;
    }

    public void TruncateAndAppend(IReadOnlyList<RaftEntry> entries)
    {
        var first = entries[0].Index;
        if (first == Offset + (ulong)_entries.Count)
        {
            _entries.AddRange(entries);
        }
        else if (first <= Offset)
        {
            // Replaces everything unstable (and, for the caller, a stable suffix too).
            Offset = first;
            _entries.Clear();
            _entries.AddRange(entries);
        }
        else
        {
            _entries.RemoveRange((int)(first - Offset), _entries.Count - (int)(first - Offset));
            _entries.AddRange(entries);
        }
    }

    public IReadOnlyList<RaftEntry> Slice(ulong lo, ulong hi) =>
        _entries.GetRange((int)(lo - Offset), (int)(hi - lo));
}
