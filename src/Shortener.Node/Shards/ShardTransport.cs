using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Node.Peers;

namespace Shortener.Node.Shards;

/// <summary>One shard's Raft messages, handed to the node's peer transport tagged with the shard.</summary>
public sealed class ShardTransport(int shard, IPeerTransport peers) : IRaftTransport
{
    public void Send(RaftMessage message) => peers.SendRaft(shard, message);
}
