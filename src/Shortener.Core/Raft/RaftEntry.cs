namespace Shortener.Core.Raft;

/// <summary>One log entry. Immutable; <see cref="Data"/> must not be changed after it is handed over.</summary>
public sealed record RaftEntry(ulong Term, ulong Index, EntryType Type, byte[] Data)
{
    public static readonly byte[] NoData = [];

    /// <summary>Bytes counted against message and uncommitted-size limits.</summary>
    public int PayloadSize => Data.Length;

    public override string ToString() => $"{Term}/{Index}{(Type == EntryType.ConfChange ? " conf" : string.Empty)}({Data.Length}B)";
}
