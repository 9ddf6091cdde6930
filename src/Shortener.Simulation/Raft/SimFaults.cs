namespace Shortener.Simulation.Raft;

/// <summary>The kinds of trouble a simulated run may throw at the cluster.</summary>
[Flags]
public enum SimFaults
{
    None = 0,

    /// <summary>Messages dropped, duplicated, delayed (and so reordered).</summary>
    Network = 1,

    /// <summary>Partitions: majority/minority, one node isolated, bridge, ring, one-way.</summary>
    Partition = 2,

    /// <summary>Nodes crash (a power loss: writes not yet synced are lost) and restart.</summary>
    Crash = 4,

    /// <summary>Nodes pause (as under SIGSTOP or a long GC) and resume.</summary>
    Pause = 8,

    /// <summary>A crash tears the unsynced tail of each file (a random prefix kept) and may flip a bit in it.</summary>
    Disk = 16,

    /// <summary>Node clocks tick at different rates.</summary>
    Clock = 32,

    /// <summary>
    /// Leader churn: cut off each new leader in turn, soon after it wins, so entries of several
    /// terms end up on too few nodes (the situation of figure 8 in the Raft paper). When chosen for
    /// a run, it replaces the random partitions.
    /// </summary>
    Churn = 64,

    /// <summary>Membership changes (a voter removed, then back as a learner, then a voter) and leadership transfers.</summary>
    Membership = 128,

    /// <summary>
    /// Faults aimed at the moments where bugs hide: the leader cut off just after it acknowledged a
    /// write or moved its commit index, reads and writes sent to a leader the moment it wins, a
    /// leader change while a membership change or a snapshot is under way, a restart just after a
    /// membership change applied.
    /// </summary>
    Aimed = 256,

    /// <summary>
    /// Membership churn aimed at stale configurations: voters removed down to a bare majority of
    /// the nodes and added back, a node restarted right after it applied a change or installed a
    /// snapshot, then cut off together with the nodes the current configuration left out, so that
    /// a node holding an old configuration finds what it counts as a majority.
    /// </summary>
    Reconfigure = 512,

    All = Network | Partition | Crash | Pause | Disk | Clock | Churn | Membership | Aimed | Reconfigure,
}
