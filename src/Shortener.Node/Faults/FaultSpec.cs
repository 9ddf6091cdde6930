namespace Shortener.Node.Faults;

/// <summary>
/// A fault as POST /admin/v1/faults takes it. <see cref="Action"/>: partition, delay, loss, pause
/// or heal. A partition names either <see cref="Isolate"/> (data centres or node ids, cut off from
/// everyone else, applied on every node) or <see cref="Peers"/> (dropped by this node only).
/// <see cref="Direction"/>: both (default), outbound or inbound, seen from the isolated side or
/// this node. <see cref="Scope"/>: cluster (default; fanned out to every node) or node.
/// <see cref="ForSeconds"/> makes the fault heal itself: the fan-out hands each node the duration,
/// and each node measures it on its own monotonic clock from when the fault arrived, so a node
/// whose wall clock is off heals on time all the same.
/// </summary>
public sealed record FaultSpec
{
    public string Action { get; init; } = string.Empty;

    public string? Scope { get; init; }

    public IReadOnlyList<string>? Isolate { get; init; }

    public IReadOnlyList<ulong>? Peers { get; init; }

    public string? Direction { get; init; }

    public int? DelayMs { get; init; }

    public int? JitterMs { get; init; }

    public double? Rate { get; init; }

    public double? ForSeconds { get; init; }
}
