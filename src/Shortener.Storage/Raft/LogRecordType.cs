namespace Shortener.Storage.Raft;

/// <summary>What a record of the node's Raft log holds. Values are on disk: never renumber.</summary>
public enum LogRecordType : byte
{
    /// <summary>First record of a segment: its sequence number. Its group field is unused.</summary>
    SegmentHeader = 1,

    /// <summary>A group's log entry: term, index, entry type, data. A lower index than the group's last one replaces the suffix from there.</summary>
    Entry = 2,

    /// <summary>A group's term, vote and commit index.</summary>
    HardState = 3,

    /// <summary>A group's snapshot at (index, term): installed (everything before is replaced) or taken (entries up to it are dropped).</summary>
    Snapshot = 4,

    /// <summary>
    /// A group's live entries copied forward from old segments so those can be deleted: they fill in
    /// below the group's first entry replayed so far and never replace one (later records are newer).
    /// </summary>
    Rewrite = 5,

    /// <summary>The group left this node: everything before this record about it is dropped.</summary>
    GroupRemoved = 6,
}
