namespace Shortener.Core.Raft;

public enum MessageType : byte
{
    /// <summary>Local: start an election (sent by the tick when the election timeout passes).</summary>
    Hup,

    /// <summary>Local: the leader should send heartbeats.</summary>
    Beat,

    /// <summary>A proposal, local or forwarded by a follower.</summary>
    Propose,

    Append,
    AppendResponse,
    Vote,
    VoteResponse,
    PreVote,
    PreVoteResponse,

    /// <summary>One chunk of a snapshot (InstallSnapshot).</summary>
    Snapshot,

    /// <summary>The follower's answer to a snapshot chunk: the offset it expects next, or done.</summary>
    SnapshotResponse,

    Heartbeat,
    HeartbeatResponse,

    /// <summary>Sent by the leader to the transfer target: start an election now.</summary>
    TimeoutNow,

    ReadIndex,
    ReadIndexResponse,

    /// <summary>Local or forwarded: ask the leader to hand leadership to <see cref="RaftMessage.From"/>.</summary>
    TransferLeader,

    /// <summary>Local: the leader checks it still has a quorum.</summary>
    CheckQuorum,

    /// <summary>Local: the driver reports that entries up to Index (term LogTerm) are durable.</summary>
    StorageAppended,
}
