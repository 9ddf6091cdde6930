namespace Shortener.Core.Clicks;

/// <summary>
/// Decides, each tick of the click loop, whether the relay may ship now: shipping yields to
/// redirects. While this node is serving redirects (its count of recorded clicks grew within the
/// window) and the host's CPU is contended (tasks waited for a CPU for at least
/// <see cref="Threshold"/> of the window's wall time, from Linux's pressure stall information),
/// the relay is let run at most once per <see cref="BusyIntervalMs"/>, so it ships at a floor of a
/// batch per interval and the outbox holds the rest; otherwise it ships at full speed (an idle
/// cluster drains its backlog as fast as it can). Without pressure information it never paces.
/// Pure: the caller passes the clock and both counters.
/// </summary>
public sealed class ClickPacer
{
    private readonly Queue<(long AtMs, long Recorded, long StallUs)> _window = new();
    private long _lastAllowed = long.MinValue / 2;

    public ClickPacer(double threshold, long busyIntervalMs, long windowMs = 1_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        ArgumentOutOfRangeException.ThrowIfNegative(busyIntervalMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMs, 1);
        Threshold = threshold;
        BusyIntervalMs = busyIntervalMs;
        WindowMs = windowMs;
    }

    /// <summary>The share of wall time in which some task waited for a CPU above which the host counts as busy (0.2: a fifth).</summary>
    public double Threshold { get; }

    public long BusyIntervalMs { get; }

    public long WindowMs { get; }

    /// <summary>Whether the last call found this node serving redirects on a contended host.</summary>
    public bool Busy { get; private set; }

    /// <summary>Ticks at which the relay was held back.</summary>
    public long HeldBack { get; private set; }

    /// <summary>
    /// One tick: <paramref name="recordedTotal"/> is how many clicks this node has recorded so far,
    /// <paramref name="cpuStallTotalUs"/> the host's cumulative CPU stall in microseconds (null when
    /// the host does not report it). Returns whether the relay may run now.
    /// </summary>
    public bool Allow(long nowMs, long recordedTotal, long? cpuStallTotalUs)
    {
        if (cpuStallTotalUs is not { } stall || BusyIntervalMs == 0)
        {
            Busy = false;
            _window.Clear();
            return true;
        }

        _window.Enqueue((nowMs, recordedTotal, stall));
        while (_window.Count > 2 && _window.Peek().AtMs < nowMs - WindowMs)
        {
            _window.Dequeue();
        }

        var (fromMs, fromRecorded, fromStall) = _window.Peek();
        var elapsedUs = (nowMs - fromMs) * 1_000.0;
        Busy = elapsedUs > 0 && recordedTotal > fromRecorded && (stall - fromStall) / elapsedUs >= Threshold;
        if (!Busy || nowMs - _lastAllowed >= BusyIntervalMs)
        {
            _lastAllowed = nowMs;
            return true;
        }

        HeldBack++;
        return false;
    }

    /// <summary>The cumulative "some" stall of a Linux /proc/pressure/cpu text, in microseconds; null when it has none.</summary>
    public static long? ParseCpuPressure(string? text)
    {
        foreach (var line in (text ?? "").Split('\n'))
        {
            if (!line.StartsWith("some ", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (field.StartsWith("total=", StringComparison.Ordinal) && long.TryParse(field.AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total))
                {
                    return total;
                }
            }
        }

        return null;
    }
}
