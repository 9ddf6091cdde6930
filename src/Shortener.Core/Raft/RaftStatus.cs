namespace Shortener.Core.Raft;

/// <summary>A replica's state for status pages and tests. On a leader, <see cref="Match"/> is how far each replica's log is known to match.</summary>
public sealed record RaftStatus(
    ulong Id,
    RaftRole Role,
    ulong Term,
    ulong Vote,
    ulong Lead,
    ulong Commit,
    ulong Applied,
    ulong LastIndex,
    ConfState Config,
    IReadOnlyDictionary<ulong, string> Progress,
    ulong LeadTransferee,
    IReadOnlyDictionary<ulong, ulong> Match);
