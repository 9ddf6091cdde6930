namespace Shortener.Core.Clicks;

/// <summary>What a <see cref="ClickNode"/> has done since it started: the figures its driver exports as metrics.</summary>
public sealed class ClickNodeCounters
{
    public long WritesSucceeded { get; internal set; }

    public long WritesFailed { get; internal set; }

    public long ReadsSucceeded { get; internal set; }

    public long ReadsFailed { get; internal set; }

    /// <summary>Clicks this node stored as a replica that it did not have.</summary>
    public long ClicksStored { get; internal set; }

    public long HintsStored { get; internal set; }

    public long HintsReplayed { get; internal set; }

    public long HintsExpired { get; internal set; }

    /// <summary>Hints for nodes no longer on the ring, written to their keys' current replicas instead.</summary>
    public long HintsRerouted { get; internal set; }

    /// <summary>Replicas a read found behind and repaired, and the clicks it sent them.</summary>
    public long ReadRepairs { get; internal set; }

    public long ReadRepairClicks { get; internal set; }

    public long AntiEntropyRounds { get; internal set; }

    public long AntiEntropyInSync { get; internal set; }

    public long AntiEntropyAbandoned { get; internal set; }

    public long RepairClicksPushed { get; internal set; }

    public long RepairClicksPulled { get; internal set; }

    /// <summary>Bytes of Merkle hashes, digests and clicks that anti-entropy moved (sent and received by this node as initiator).</summary>
    public long RepairBytes { get; internal set; }

    /// <summary>Clicks this node folded into sealed days, and the sealed days it merged from other replicas that changed its own.</summary>
    public long ClicksSealed { get; internal set; }

    public long SealedMerged { get; internal set; }

    /// <summary>Sealed days from other replicas not merged yet: not past this node's own horizon.</summary>
    public long SealedDeferred { get; internal set; }

    /// <summary>Clicks that reached this replica after it had sealed their link's day: not stored, not counted.</summary>
    public long LateClicks { get; internal set; }

    /// <summary>Local store or hint writes that threw (a disk error): the replica counted as failed.</summary>
    public long StoreFailures { get; internal set; }

    public string? LastStoreError { get; internal set; }

    /// <summary>A copy, for a reader on another thread.</summary>
    public ClickNodeCounters Snapshot() => (ClickNodeCounters)MemberwiseClone();
}
