using Shortener.Node.Observability;
using Shortener.Core.Cluster;
using Shortener.Core.Links;
using Shortener.Core.Replication;
using Shortener.Storage.Links;

namespace Shortener.Node.Shards;

/// <summary>What a <see cref="ShardReplica"/> needs from the node around it: identity, timing, and where its output goes.</summary>
public sealed class ShardReplicaSettings
{
    public required int Shard { get; init; }

    public required ulong NodeId { get; init; }

    /// <summary>This process's proposer number (see <see cref="ProposalId"/>).</summary>
    public required ulong Proposer { get; init; }

    /// <summary>Where the replica's Raft messages go.</summary>
    public required IRaftTransport Transport { get; init; }

    /// <summary>Milliseconds per tick: the replica's time is counted in ticks, its staleness shown in milliseconds.</summary>
    public int TickMs { get; init; } = 100;

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>How long a write or a linearizable read waits before it is answered as unavailable.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a proposal waits to apply, with no change of leader, before it is proposed again.</summary>
    public TimeSpan ReproposeInterval { get; init; } = TimeSpan.FromSeconds(2);

    public int SnapshotEntries { get; init; } = 10_000;

    public int SnapshotKeepEntries { get; init; } = 1_000;

    /// <summary>
    /// Runs the replica's snapshot work (capturing its rows, writing the file) off the driver's
    /// thread: the node's <see cref="SnapshotWorker"/>, one piece at a time; in tests, the pool.
    /// </summary>
    public Action<Action> SnapshotWork { get; init; } = work => Task.Run(work);

    /// <summary>Wall time, only for the applied age between two ticks.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where role and term changes are journaled (none in tests that do not ask).</summary>
    public NodeJournal? Journal { get; init; }

    /// <summary>Called on the driver's thread for each applied batch, in log order, once the node committed the round that applied it: commands and their results.</summary>
    public Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>> Applied { get; init; } = (_, _) => { };

    /// <summary>Called after the state machine was replaced by a snapshot (caches of it are stale).</summary>
    public Action<SqliteLinkStateMachine> Restored { get; init; } = _ => { };

    /// <summary>
    /// Where the shard should be placed now, for the leader's reconciler (<see cref="ShardReconciler"/>);
    /// null while this node is not sure it knows the current member list.
    /// </summary>
    public Func<ShardReplicas?> Target { get; init; } = () => null;

    /// <summary>Called on the driver's thread when the leader's reconciler takes a step (its kind).</summary>
    public Action<string> MembershipStep { get; init; } = _ => { };

    /// <summary>Ticks between two looks of the leader's reconciler at the shard's membership.</summary>
    public int ReconcileTicks { get; init; } = 10;

    /// <summary>How many entries behind the leader's log a learner may be and still be promoted to voter.</summary>
    public ulong PromoteMaxLag { get; init; } = 100;

    /// <summary>True while fault injection pauses this node's Raft processing.</summary>
    public Func<bool> Paused { get; init; } = () => false;

    /// <summary>The replica driver's settings for these.</summary>
    internal ReplicaOptions DriverOptions() => new()
    {
        Raft = new Core.Raft.RaftConfig
        {
            Id = NodeId,
            ElectionTick = ElectionTicks,
            HeartbeatTick = HeartbeatTicks,
            Random = new Core.SeededRandom(BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))),
            PreVote = true,
            CheckQuorum = true,
        },
        Proposer = Proposer,

        // A tick short of the caller's own deadline, so the driver's precise answer (applied, or
        // never handed over) normally comes before the caller gives up not knowing.
        RequestTimeoutTicks = Math.Max(1, (int)(RequestTimeout.TotalMilliseconds / TickMs) - 1),
        ReproposeTicks = Math.Max(1, (int)(ReproposeInterval.TotalMilliseconds / TickMs)),
        SnapshotEntries = SnapshotEntries,
        SnapshotKeepEntries = SnapshotKeepEntries,
    };
}
