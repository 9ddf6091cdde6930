using Shortener.Core.Cluster;
using Shortener.Core.Raft;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Peers;

/// <summary>
/// How this node talks to the other members: Raft messages of every shard, gossip, click-store
/// messages and fault fan-out. Sends never block and may drop (each protocol above retries what
/// matters); the members to talk to follow the cluster's member list.
/// </summary>
public interface IPeerTransport
{
    /// <summary>Queues a Raft message of <paramref name="shard"/> for its receiver.</summary>
    void SendRaft(int shard, RaftMessage message);

    /// <summary>Sends one gossip packet to <paramref name="peer"/>, or drops it (as SWIM expects of a network).</summary>
    void SendGossip(ulong peer, GossipPacket packet);

    /// <summary>Sends one click-store message to <paramref name="peer"/>, or drops it and counts why.</summary>
    void SendClick(ulong peer, ClickPacket packet);

    /// <summary>Hands a fault to <paramref name="peer"/> and returns its fault state.</summary>
    Task<FaultReply> InjectFaultAsync(ulong peer, FaultRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Follows a change of the member list: links to new members open, links to departed ones close.</summary>
    void UpdateMembers(IReadOnlyList<ClusterMember> members);

    /// <summary>Raised when the Raft stream to a peer broke (the shards stop pipelining to it and probe).</summary>
    event Action<ulong>? PeerUnreachable;
}
