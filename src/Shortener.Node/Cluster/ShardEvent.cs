using Shortener.Core.Links;
using Shortener.Core.Raft;

namespace Shortener.Node.Cluster;

/// <summary>What reaches a <see cref="ShardReplica"/>'s loop.</summary>
internal abstract record ShardEvent
{
    public sealed record Tick : ShardEvent
    {
        public static readonly Tick Instance = new();
    }

    public sealed record Inbound(RaftMessage Message) : ShardEvent;

    /// <summary>A proposal attempt; <see cref="Accepted"/> completes when the engine took it and fails when it refused.</summary>
    public sealed record Propose(byte[] Data, TaskCompletionSource Accepted) : ShardEvent;

    public sealed record Read(TaskCompletionSource Completion) : ShardEvent;

    /// <summary>Work on the loop; <see cref="Fail"/> hears why it will never run (the replica stopped).</summary>
    public sealed record Run(Action<RaftNode> Action, Action<Exception>? Fail) : ShardEvent;
}
