using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>Where a replica's outgoing Raft messages go. Never blocks: a full queue drops (Raft resends what matters).</summary>
public interface IRaftTransport
{
    void Send(RaftMessage message);
}
