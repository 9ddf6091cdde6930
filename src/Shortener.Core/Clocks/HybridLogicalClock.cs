namespace Shortener.Core.Clocks;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., 2014): timestamps that respect causality like a Lamport
/// clock and stay close to physical time. The caller passes its physical reading in milliseconds
/// (Core reads no clock). A message stamped more than <see cref="MaxOffsetMs"/> ahead of the local
/// physical clock is refused, so a node with a runaway clock cannot drag the others' clocks with it
/// and every reading stays within the offset of the physical time it was taken at.
/// </summary>
public sealed class HybridLogicalClock
{
    private HlcTimestamp _last;

    public HybridLogicalClock(long maxOffsetMs, HlcTimestamp start = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxOffsetMs);
        MaxOffsetMs = maxOffsetMs;
        _last = start;
    }

    public long MaxOffsetMs { get; }

    /// <summary>The last timestamp issued or observed.</summary>
    public HlcTimestamp Last => _last;

    /// <summary>A local event or a send at physical time <paramref name="physicalMs"/>.</summary>
    public HlcTimestamp Now(long physicalMs)
    {
        _last = physicalMs > _last.WallMs ? new HlcTimestamp(physicalMs, 0) : Bump(_last.WallMs, _last.Logical);
        return _last;
    }

    /// <summary>
    /// A receive of a message stamped <paramref name="received"/>: a timestamp after both it and
    /// every earlier local one. Throws <see cref="ClockOffsetException"/> (leaving the clock as it
    /// was) when the stamp is more than the maximum offset ahead of <paramref name="physicalMs"/>.
    /// </summary>
    public HlcTimestamp Observe(HlcTimestamp received, long physicalMs)
    {
        if (received.WallMs - physicalMs > MaxOffsetMs)
        {
            throw new ClockOffsetException(received, physicalMs, MaxOffsetMs);
        }

        var wall = Math.Max(Math.Max(_last.WallMs, received.WallMs), physicalMs);
        if (wall == _last.WallMs && wall == received.WallMs)
        {
            _last = Bump(wall, Math.Max(_last.Logical, received.Logical));
        }
        else if (wall == _last.WallMs)
        {
            _last = Bump(wall, _last.Logical);
        }
        else if (wall == received.WallMs)
        {
            _last = Bump(wall, received.Logical);
        }
        else
        {
            _last = new HlcTimestamp(wall, 0);
        }

        return _last;
    }

    // The counter only overflows when one millisecond carries 65,536 events; the next millisecond
    // takes over then, which keeps the order and costs at most a millisecond of drift.
    private static HlcTimestamp Bump(long wall, int logical) =>
        logical >= HlcTimestamp.MaxLogical ? new HlcTimestamp(wall + 1, 0) : new HlcTimestamp(wall, logical + 1);
}
