using System.Globalization;

namespace Shortener.Node.Faults;

/// <summary>
/// The faults in force on one node, one of each kind at most, each with an end of its own
/// (<see cref="TimedFault.EndsAtMs"/>, on this node's monotonic clock), so a loss injected after a
/// timed partition neither extends nor shortens it.
/// </summary>
public sealed record FaultState
{
    public static readonly FaultState None = new();

    public PartitionFault? Partition { get; init; }

    public DelayFault? Delay { get; init; }

    public LossFault? Loss { get; init; }

    public PauseFault? Pause { get; init; }

    public bool IsEmpty => Partition is null && Delay is null && Loss is null && Pause is null;

    public IEnumerable<TimedFault> All => new TimedFault?[] { Partition, Delay, Loss, Pause }.OfType<TimedFault>();

    /// <summary>
    /// This state with <paramref name="spec"/> applied on this node at <paramref name="nowMs"/>: heal
    /// clears everything; any other action replaces the fault of its kind, ending
    /// <see cref="FaultSpec.ForSeconds"/> from now (or never), and leaves the other kinds alone.
    /// </summary>
    public FaultState With(FaultSpec spec, long nowMs)
    {
        long? ends = spec.ForSeconds is { } seconds ? nowMs + (long)(seconds * 1000) : null;
        var peers = (spec.Peers ?? []).ToHashSet();
        return spec.Action switch
        {
            "heal" => None,
            "partition" => this with
            {
                Partition = new PartitionFault(
                    spec.Direction is null or "both" or "outbound" ? peers : new HashSet<ulong>(),
                    spec.Direction is null or "both" or "inbound" ? peers : new HashSet<ulong>(),
                    ends),
            },
            "delay" => this with { Delay = new DelayFault(spec.DelayMs ?? 0, spec.JitterMs ?? 0, peers, ends) },
            "loss" => this with { Loss = new LossFault(spec.Rate ?? 0, peers, ends) },
            "pause" => this with { Pause = new PauseFault(ends) },
            _ => this,
        };
    }

    /// <summary>This state without the faults that ended by <paramref name="nowMs"/>; the same instance when none did.</summary>
    public FaultState Without(long nowMs)
    {
        if (!All.Any(f => f.EndedBy(nowMs)))
        {
            return this;
        }

        var left = new FaultState
        {
            Partition = Partition is { } p && !p.EndedBy(nowMs) ? p : null,
            Delay = Delay is { } d && !d.EndedBy(nowMs) ? d : null,
            Loss = Loss is { } l && !l.EndedBy(nowMs) ? l : null,
            Pause = Pause is { } z && !z.EndedBy(nowMs) ? z : null,
        };
        return left.IsEmpty ? None : left;
    }

    /// <summary>What is in force, each fault with the time it has left, for logs, `cluster status` and the dashboard.</summary>
    public string Describe(long nowMs) => IsEmpty ? "none" : string.Join("; ", All.Select(f => f.Describe(nowMs)));
}

/// <summary>A fault that lasts until <see cref="EndsAtMs"/> (milliseconds on the node's monotonic clock), or until healed when null.</summary>
public abstract record TimedFault(long? EndsAtMs)
{
    public bool EndedBy(long nowMs) => EndsAtMs is { } end && nowMs >= end;

    /// <summary>Milliseconds left, or null when it lasts until healed.</summary>
    public long? RemainingMs(long nowMs) => EndsAtMs is { } end ? Math.Max(0, end - nowMs) : null;

    public abstract string Kind { get; }

    public abstract string Detail { get; }

    public string Describe(long nowMs) =>
        $"{Kind} {Detail} ({(RemainingMs(nowMs) is { } left ? (left / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s left" : "until healed")})";

    protected static string Ids(IReadOnlySet<ulong> ids) => "[" + string.Join(',', ids.Order()) + "]";
}

/// <summary>Traffic to <see cref="DropTo"/> and from <see cref="DropFrom"/> dropped: a partition, one-way or both.</summary>
public sealed record PartitionFault(IReadOnlySet<ulong> DropTo, IReadOnlySet<ulong> DropFrom, long? EndsAtMs) : TimedFault(EndsAtMs)
{
    public override string Kind => "partition";

    public override string Detail => DropTo.Count + DropFrom.Count == 0
        ? "nothing dropped"
        : string.Join(", ", new[] { DropTo.Count > 0 ? "drop to " + Ids(DropTo) : null, DropFrom.Count > 0 ? "drop from " + Ids(DropFrom) : null }.OfType<string>());
}

/// <summary>Every batch to <see cref="Peers"/> (every peer when empty) held back by <see cref="DelayMs"/> plus up to <see cref="JitterMs"/>.</summary>
public sealed record DelayFault(int DelayMs, int JitterMs, IReadOnlySet<ulong> Peers, long? EndsAtMs) : TimedFault(EndsAtMs)
{
    public override string Kind => "delay";

    public override string Detail => $"{DelayMs}±{JitterMs} ms" + (Peers.Count > 0 ? " to " + Ids(Peers) : string.Empty);

    public bool Affects(ulong peer) => Peers.Count == 0 || Peers.Contains(peer);
}

/// <summary>A share <see cref="Rate"/> of the messages to <see cref="Peers"/> (every peer when empty) dropped.</summary>
public sealed record LossFault(double Rate, IReadOnlySet<ulong> Peers, long? EndsAtMs) : TimedFault(EndsAtMs)
{
    public override string Kind => "loss";

    public override string Detail => (Rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" + (Peers.Count > 0 ? " to " + Ids(Peers) : string.Empty);

    public bool Affects(ulong peer) => Peers.Count == 0 || Peers.Contains(peer);
}

/// <summary>All Raft, gossip and click processing paused.</summary>
public sealed record PauseFault(long? EndsAtMs) : TimedFault(EndsAtMs)
{
    public override string Kind => "pause";

    public override string Detail => "raft, gossip and clicks";
}
