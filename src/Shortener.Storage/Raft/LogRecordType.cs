namespace Shortener.Storage.Raft;

/// <summary>What a WAL record holds. Values are on disk: never renumber.</summary>
public enum WalRecordType : byte
{
    /// <summary>First record of a segment: its sequence number and the index of the next entry.</summary>
    SegmentHeader = 1,

    /// <summary>A log entry: term, index, entry type, data. A lower index than the last one replaces the suffix from there.</summary>
    Entry = 2,

    /// <summary>Term, vote and commit index.</summary>
    HardState = 3,

    /// <summary>A snapshot at (index, term): installed (everything before is replaced) or taken (entries up to it are dropped).</summary>
    Snapshot = 4,
}
