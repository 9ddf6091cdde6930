namespace Shortener.Core.Raft;

/// <summary>
/// A Raft message. One shape for all types, as in etcd: the fields a type does not use stay at
/// their defaults. <see cref="Context"/> carries read-index request ids and campaign kinds.
/// </summary>
public sealed record RaftMessage
{
    public required MessageType Type { get; init; }

    public ulong From { get; init; }

    public ulong To { get; init; }

    public ulong Term { get; init; }

    /// <summary>Append: term of the entry before <see cref="Entries"/>. Reject: term at <see cref="RejectHint"/>. Votes: last log term.</summary>
    public ulong LogTerm { get; init; }

    /// <summary>
    /// Append: index of the entry before <see cref="Entries"/>. Response: last index matched (or
    /// rejected). Votes: last log index. Heartbeat: the leader's commit index (for staleness; Raft
    /// itself commits by <see cref="Commit"/>).
    /// </summary>
    public ulong Index { get; init; }

    public IReadOnlyList<RaftEntry> Entries { get; init; } = [];

    public ulong Commit { get; init; }

    public bool Reject { get; init; }

    /// <summary>On a rejected append: the follower's best guess of where the logs may match.</summary>
    public ulong RejectHint { get; init; }

    public byte[] Context { get; init; } = [];

    /// <summary>Heartbeat: the leader's tick count when sent, echoed in the response; dates the leader's lease.</summary>
    public ulong SentAtTick { get; init; }

    /// <summary>Snapshot: metadata of the snapshot being installed.</summary>
    public SnapshotMetadata? SnapshotMetadata { get; init; }

    /// <summary>Snapshot: byte offset of <see cref="SnapshotChunk"/> within the snapshot; response: next offset wanted.</summary>
    public long SnapshotOffset { get; init; }

    public byte[] SnapshotChunk { get; init; } = [];

    /// <summary>Snapshot: this chunk is the last one. Response: the snapshot is installed.</summary>
    public bool SnapshotDone { get; init; }

    public override string ToString()
    {
        var text = $"{From}->{To} {Type} term={Term}";
        if (Type is MessageType.Append or MessageType.AppendResponse or MessageType.Vote or MessageType.PreVote or MessageType.Heartbeat or MessageType.HeartbeatResponse or MessageType.VoteResponse or MessageType.PreVoteResponse)
        {
            text += $" logterm={LogTerm} index={Index} commit={Commit}";
        }

        if (Reject)
        {
            text += $" rejected hint={RejectHint}";
        }

        if (Entries.Count > 0)
        {
            text += $" entries=[{string.Join(' ', Entries)}]";
        }

        if (SnapshotMetadata is { } meta)
        {
            text += $" snapshot={meta.Term}/{meta.Index} offset={SnapshotOffset}{(SnapshotDone ? " done" : string.Empty)}";
        }

        return text;
    }
}
