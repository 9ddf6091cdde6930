namespace Shortener.Core.Replication;

/// <summary>Where a pending proposal stands in its current attempt.</summary>
public enum ProposalPhase : byte
{
    /// <summary>Not handed to Raft in this attempt: no leader was known, or the leader refused it for now.</summary>
    Waiting,

    /// <summary>Appended by this replica as leader, or forwarded to the leader: it may commit.</summary>
    HandedOver,
}
