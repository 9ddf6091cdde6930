namespace Shortener.Core.Membership;

/// <summary>
/// Timing and fan-out of <see cref="SwimNode"/>, in ticks of the driver (a tick is
/// <see cref="TickMs"/>). Defaults follow hashicorp/memberlist's LAN profile at 100 ms ticks:
/// probe every second, 500 ms to answer, three indirect probes, gossip to three members every
/// 200 ms, a full sync every 30 s, and one with a member declared dead every 5 s.
/// </summary>
public sealed record GossipSettings
{
    public int TickMs { get; init; } = 100;

    public int ProbeIntervalTicks { get; init; } = 10;

    /// <summary>How long a direct probe waits for its ack before asking others to probe.</summary>
    public int ProbeTimeoutTicks { get; init; } = 5;

    /// <summary>k: members asked to probe a target that missed its direct probe.</summary>
    public int IndirectProbes { get; init; } = 3;

    public int GossipIntervalTicks { get; init; } = 2;

    public int GossipFanout { get; init; } = 3;

    /// <summary>Updates piggybacked per message at most.</summary>
    public int MaxPiggyback { get; init; } = 16;

    /// <summary>Each update is sent this many times log10(n + 1), rounded up.</summary>
    public int RetransmitMultiplier { get; init; } = 4;

    /// <summary>The shortest suspicion lasts this many probe intervals times log10(n) (at least 1).</summary>
    public int SuspicionMultiplier { get; init; } = 4;

    /// <summary>The longest suspicion (no confirmations) is this many times the shortest.</summary>
    public int SuspicionMaxMultiplier { get; init; } = 6;

    public int PushPullIntervalTicks { get; init; } = 300;

    /// <summary>How often a full sync is offered to one member declared dead (a healed partition, a restarted node).</summary>
    public int ReconnectIntervalTicks { get; init; } = 50;

    public void Validate()
    {
        if (TickMs < 1 || ProbeIntervalTicks < 2 || ProbeTimeoutTicks < 1 || ProbeTimeoutTicks >= ProbeIntervalTicks || IndirectProbes < 0
            || GossipIntervalTicks < 1 || GossipFanout < 1 || MaxPiggyback < 1 || RetransmitMultiplier < 1 || SuspicionMultiplier < 1
            || SuspicionMaxMultiplier < 1 || PushPullIntervalTicks < 1 || ReconnectIntervalTicks < 1)
        {
            throw new ArgumentException($"gossip settings out of range: {this}");
        }
    }
}
