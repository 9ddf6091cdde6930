namespace Shortener.Core.Clocks;

/// <summary>A message stamped further ahead of this node's physical clock than the cluster's maximum offset allows.</summary>
public sealed class ClockOffsetException(HlcTimestamp received, long physicalMs, long maxOffsetMs)
    : Exception($"a timestamp {received} is {received.WallMs - physicalMs} ms ahead of this node's clock ({physicalMs}); the cluster allows {maxOffsetMs} ms")
{
    public HlcTimestamp Received { get; } = received;

    public long AheadMs { get; } = received.WallMs - physicalMs;
}
