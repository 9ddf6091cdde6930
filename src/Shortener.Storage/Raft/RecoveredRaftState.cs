using Shortener.Core.Raft;

namespace Shortener.Storage.Raft;

/// <summary>What a WAL replay found: the last hard state, the snapshot the log starts from, the entries after it, and what recovery cut off the tail.</summary>
public sealed record RecoveredRaftState(
    HardState HardState,
    ulong SnapshotIndex,
    ulong SnapshotTerm,
    IReadOnlyList<RaftEntry> Entries,
    long TruncatedTailBytes,
    int Segments);
