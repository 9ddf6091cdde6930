using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Storage.Links;

namespace Shortener.Node.Cluster;

/// <summary>What a <see cref="ShardReplica"/> needs from the node around it: identity, timing, and where its output goes.</summary>
public sealed class ShardReplicaSettings
{
    public required int Shard { get; init; }

    public required ulong NodeId { get; init; }

    /// <summary>This process's proposer number (see <see cref="ShardProposal"/>).</summary>
    public required ulong Proposer { get; init; }

    public required Func<ulong> NextProposalId { get; init; }

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 1;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a proposal waits to apply, with no change of leader, before it is proposed again.</summary>
    public TimeSpan ReproposeInterval { get; init; } = TimeSpan.FromSeconds(2);

    public int SnapshotEntries { get; init; } = 10_000;

    public int SnapshotKeepEntries { get; init; } = 1_000;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Hands a message to the transport (never blocks).</summary>
    public required Action<int, RaftMessage> Send { get; init; }

    /// <summary>Called on the loop after each applied batch, in log order: commands and their results.</summary>
    public Action<int, IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> Applied { get; init; } = (_, _, _) => { };

    /// <summary>Called after the state machine was replaced by a snapshot (caches of it are stale).</summary>
    public Action<int> Restored { get; init; } = _ => { };

    /// <summary>
    /// Where the shard should be placed now, for the leader's reconciler (<see cref="Core.Cluster.ShardReconciler"/>);
    /// null while this node is not sure it knows the current member list.
    /// </summary>
    public Func<Core.Cluster.ShardReplicas?> Target { get; init; } = () => null;

    /// <summary>Called on the loop when the leader's reconciler takes a step (its kind).</summary>
    public Action<string> MembershipStep { get; init; } = _ => { };

    /// <summary>Ticks between two looks of the leader's reconciler at the shard's membership.</summary>
    public int ReconcileTicks { get; init; } = 10;

    /// <summary>How many entries behind the leader's log a learner may be and still be promoted to voter.</summary>
    public ulong PromoteMaxLag { get; init; } = 100;

    /// <summary>
    /// When set (<see cref="ShardDriver.Signal"/>), the replica starts no thread of its own: a
    /// <see cref="ShardDriver"/> runs its rounds together with other shards', and sleeps on this
    /// event, which every write to the replica's inbox sets.
    /// </summary>
    public ManualResetEventSlim? SharedDriver { get; init; }

    /// <summary>True while fault injection pauses this node's Raft processing.</summary>
    public Func<bool> Paused { get; init; } = () => false;
}
