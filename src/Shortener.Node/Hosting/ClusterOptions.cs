namespace Shortener.Node.Hosting;

/// <summary>
/// This node's place in the cluster, bound from "Shortener:Cluster". With nothing set the node is
/// a cluster of one (id 1, dc1) holding every shard itself.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Shortener:Cluster";

    /// <summary>This node's id: positive, unique in the cluster, the same across restarts.</summary>
    public ulong NodeId { get; set; } = 1;

    /// <summary>The data centre this node is in; shard replicas are spread over data centres.</summary>
    public string Dc { get; set; } = "dc1";

    /// <summary>
    /// The address peers reach this node's gRPC endpoint at, e.g. https://10.0.0.1:9080 (mutual
    /// TLS: <see cref="TlsCert"/>) or, for loopback development, http://127.0.0.1:9080
    /// (<see cref="PlaintextPeers"/>). The node listens on its port. Required when the cluster has more than one member.
    /// </summary>
    public string? PeerUrl { get; set; }

    /// <summary>
    /// A topology file (JSON: members, shards, replication factor, code key and length) to create
    /// the cluster from at first start. Afterwards the copy in the data dir is authoritative.
    /// </summary>
    public string? TopologyFile { get; set; }

    /// <summary>
    /// The peer URL of a member of a running cluster, to fetch the topology from at first start (a node
    /// added with `shortener cluster add-node`). Its shards then start empty and are filled by snapshots.
    /// </summary>
    public string? Join { get; set; }

    /// <summary>This node's peer certificate (PEM), signed by the cluster's authority; with <see cref="TlsKey"/> and <see cref="TlsCa"/>.</summary>
    public string? TlsCert { get; set; }

    /// <summary>The private key of <see cref="TlsCert"/> (PEM).</summary>
    public string? TlsKey { get; set; }

    /// <summary>The cluster's certificate authority (PEM): peers must present a certificate it signed.</summary>
    public string? TlsCa { get; set; }

    /// <summary>Allows http:// peer URLs on loopback addresses: peer traffic in the clear, for development only.</summary>
    public bool PlaintextPeers { get; set; }

    /// <summary>The secret every peer call must carry (SHORTENER_CLUSTER_SECRET); calls without it are refused.</summary>
    public string? Secret { get; set; }

    /// <summary>Shards of a cluster created by a single node starting alone.</summary>
    public int Shards { get; set; } = Core.Cluster.ClusterTopology.DefaultShards;

    /// <summary>Milliseconds per Raft tick.</summary>
    public int TickMs { get; set; } = 100;

    /// <summary>Ticks without a leader before a follower campaigns (randomised up to twice this).</summary>
    public int ElectionTicks { get; set; } = 10;

    /// <summary>Ticks between a leader's heartbeats.</summary>
    public int HeartbeatTicks { get; set; } = 1;

    /// <summary>How long a write or a linearizable read waits for its shard before it is answered 503.</summary>
    public int RequestTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// How long a write waits to apply, with no change of leader, before it is proposed again
    /// under the same proposal id (the apply drops the duplicate): what a proposal lost on its way
    /// to the leader costs.
    /// </summary>
    public int ReproposeMs { get; set; } = 2000;

    /// <summary>Applied entries after which a shard snapshots its state and compacts its log.</summary>
    public int SnapshotEntries { get; set; } = 10_000;

    /// <summary>Entries kept in the log behind a snapshot, so slightly lagging followers catch up without one.</summary>
    public int SnapshotKeepEntries { get; set; } = 1_000;

    /// <summary>
    /// Longest the node's database holds applied commands before it commits them (etcd's backend
    /// batch interval): what a crash can take from the database, which the log then replays.
    /// </summary>
    public int DatabaseCommitIntervalMs { get; set; } = 100;

    /// <summary>Applied commands after which the node's database commits without waiting for the interval (etcd's batch limit).</summary>
    public int DatabaseCommitApplies { get; set; } = 10_000;

    /// <summary>Messages queued for one peer before new ones are dropped (Raft resends what matters).</summary>
    public int PeerQueueCapacity { get; set; } = 8192;
}
