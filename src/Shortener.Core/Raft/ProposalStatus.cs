namespace Shortener.Core.Raft;

public enum ProposalStatus : byte
{
    /// <summary>Appended to the leader's log at the given index; committed or lost later.</summary>
    Appended,

    /// <summary>Forwarded to the leader; the outcome is learned by watching applied entries.</summary>
    Forwarded,

    /// <summary>Refused: no leader is known, or this node does not forward.</summary>
    NotLeader,

    /// <summary>Refused by the leader (transfer in progress, uncommitted limit, pending membership change, invalid change).</summary>
    Dropped,
}
