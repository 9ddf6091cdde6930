namespace Shortener.Core.Raft;

public enum EntryType : byte
{
    /// <summary>Application data (or empty: the leader's no-op).</summary>
    Normal = 0,

    /// <summary>A membership change: <see cref="ConfChange"/> in <see cref="RaftEntry.Data"/>.</summary>
    ConfChange = 1,
}
