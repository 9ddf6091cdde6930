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

    /// <summary>Nodes crash (losing writes not yet synced) and restart.</summary>
    Crash = 4,

    /// <summary>Nodes pause (as under SIGSTOP or a long GC) and resume.</summary>
    Pause = 8,

    /// <summary>A crash during a write leaves a torn or corrupt tail, cut back to a prefix on recovery.</summary>
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

    All = Network | Partition | Crash | Pause | Disk | Clock | Churn | Membership,
}
