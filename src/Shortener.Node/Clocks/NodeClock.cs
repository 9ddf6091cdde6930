using Microsoft.Extensions.Logging;
using Shortener.Core.Clocks;
using Shortener.Node.Observability;

namespace Shortener.Node.Clocks;

/// <summary>
/// This node's hybrid logical clock: every peer message it sends (Raft batches, gossip, click-store
/// messages) carries a reading, every one it receives is observed, and clicks and journal entries
/// are stamped with it. So if one node's event caused another's (a vote, an append, a click handed
/// over), the second's stamp is larger, whatever the two wall clocks say: the scenario orders the
/// journals of all nodes by it.
///
/// A stamp more than <see cref="MaxOffsetMs"/> ahead of this node's wall clock is not observed (the
/// clock would run ahead of physical time by the peer's error) but the message is still delivered:
/// Raft and gossip do not depend on clocks, and refusing their traffic over a clock fault would turn
/// it into an outage. Such stamps are counted (shortener.hlc.offset_rejected) and logged.
/// </summary>
public sealed class NodeClock(TimeProvider time, ShortenerMetrics? metrics = null, ILogger<NodeClock>? logger = null)
{
    /// <summary>The largest lead of a peer's clock this node follows (CockroachDB's default is 500 ms).</summary>
    public const long MaxOffsetMs = 500;

    // Warnings about a runaway peer clock at most once per this many milliseconds.
    private const long WarningIntervalMs = 10_000;

    private readonly Lock _lock = new();
    private readonly HybridLogicalClock _hlc = new(MaxOffsetMs);
    private long _lastWarningMs = long.MinValue;

    /// <summary>The last reading issued or observed.</summary>
    public HlcTimestamp Last
    {
        get
        {
            lock (_lock)
            {
                return _hlc.Last;
            }
        }
    }

    /// <summary>A reading for a local event or a send.</summary>
    public HlcTimestamp Now()
    {
        var physical = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            return _hlc.Now(physical);
        }
    }

    /// <summary>Packed, for a peer message (see <see cref="HlcTimestamp.Pack"/>).</summary>
    public ulong Stamp() => Now().Pack();

    /// <summary>
    /// Follows a peer's packed stamp (0: the sender did not stamp, as an older node would not).
    /// Returns false, leaving the clock as it was, when the stamp is too far ahead to follow.
    /// </summary>
    public bool Observe(ulong packed, ulong from)
    {
        if (packed == 0)
        {
            return true;
        }

        var received = HlcTimestamp.Unpack(packed);
        var physical = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            try
            {
                _hlc.Observe(received, physical);
                return true;
            }
            catch (ClockOffsetException)
            {
                // Below: the clock is left as it was.
            }
        }

        metrics?.HlcOffsetRejected(from);
        if (physical - Interlocked.Read(ref _lastWarningMs) >= WarningIntervalMs)
        {
            Interlocked.Exchange(ref _lastWarningMs, physical);
            logger?.LogWarning("Node {Peer}'s clock is {Lead} ms ahead of this node's, more than the {Max} ms this node follows; check the clocks (NTP)", from, received.WallMs - physical, MaxOffsetMs);
        }

        return false;
    }
}
