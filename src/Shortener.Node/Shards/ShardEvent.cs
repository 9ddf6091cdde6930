using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Node.Shards;

/// <summary>What reaches a <see cref="ShardReplica"/>'s driver from other threads.</summary>
internal abstract record ShardEvent
{
    public sealed record Tick : ShardEvent
    {
        public static readonly Tick Instance = new();
    }

    public sealed record Inbound(RaftMessage Message) : ShardEvent;

    /// <summary>A command to propose; <see cref="Done"/> hears its outcome on the driver's thread.</summary>
    public sealed record Propose(byte[] Payload, Action<ProposalOutcome<BatchItemResult>> Done) : ShardEvent
    {
        /// <summary>The id the driver proposed it under (set and read on the driver's thread; null if it was refused at once).</summary>
        public ProposalId? Id { get; set; }
    }

    /// <summary>The caller of <see cref="Proposal"/> stopped waiting for it: the driver stops proposing it again.</summary>
    public sealed record Withdraw(Propose Proposal) : ShardEvent;

    public sealed record Read(Action<ReadOutcome> Done) : ShardEvent;

    /// <summary>Work on the engine between rounds; <see cref="Fail"/> hears why it will never run (the replica stopped).</summary>
    public sealed record Run(Action<RaftNode> Action, Action<Exception>? Fail) : ShardEvent;

    /// <summary>A snapshot captured off the driver's thread, or why it could not be.</summary>
    public sealed record SnapshotCaptured(CapturedSnapshot? Snapshot, string? Error) : ShardEvent;
}
