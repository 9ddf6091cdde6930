namespace Shortener.Node.Faults;

/// <summary>
/// The faults in force on one node. <see cref="DelayMs"/>, <see cref="JitterMs"/> and
/// <see cref="LossRate"/> apply to <see cref="LinkPeers"/> (every peer when empty).
/// </summary>
public sealed record FaultState
{
    public static readonly FaultState None = new();

    public IReadOnlySet<ulong> DropTo { get; init; } = new HashSet<ulong>();

    public IReadOnlySet<ulong> DropFrom { get; init; } = new HashSet<ulong>();

    public int DelayMs { get; init; }

    public int JitterMs { get; init; }

    public double LossRate { get; init; }

    public IReadOnlySet<ulong> LinkPeers { get; init; } = new HashSet<ulong>();

    public bool Paused { get; init; }

    /// <summary>When the faults heal on their own (Unix ms), or null to last until healed.</summary>
    public long? ExpiresAtMs { get; init; }

    public bool Affects(ulong peer) => LinkPeers.Count == 0 || LinkPeers.Contains(peer);

    public string Describe()
    {
        var parts = new List<string>();
        if (DropTo.Count > 0)
        {
            parts.Add($"drop to [{string.Join(',', DropTo.Order())}]");
        }

        if (DropFrom.Count > 0)
        {
            parts.Add($"drop from [{string.Join(',', DropFrom.Order())}]");
        }

        if (DelayMs > 0)
        {
            parts.Add($"delay {DelayMs}±{JitterMs} ms");
        }

        if (LossRate > 0)
        {
            parts.Add($"loss {LossRate:P0}");
        }

        if (Paused)
        {
            parts.Add("raft paused");
        }

        if (ExpiresAtMs is { } at)
        {
            parts.Add($"until {DateTimeOffset.FromUnixTimeMilliseconds(at):O}");
        }

        return parts.Count == 0 ? "none" : string.Join("; ", parts);
    }
}
