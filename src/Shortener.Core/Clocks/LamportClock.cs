namespace Shortener.Core.Clocks;

/// <summary>
/// A Lamport clock: a counter that every local event and send advances, and that every receive
/// moves past the sender's stamp, so if a happened before b then ts(a) &lt; ts(b). Ties between
/// nodes are broken by node id where a total order is needed.
/// </summary>
public sealed class LamportClock(ulong start = 0)
{
    public ulong Time { get; private set; } = start;

    /// <summary>A local event or a send: the stamp it carries.</summary>
    public ulong Tick() => ++Time;

    /// <summary>A receive of a message stamped <paramref name="received"/>: the receive's own stamp.</summary>
    public ulong Observe(ulong received)
    {
        Time = Math.Max(Time, received) + 1;
        return Time;
    }
}
