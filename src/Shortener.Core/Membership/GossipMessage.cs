namespace Shortener.Core.Membership;

/// <summary>
/// A message between <see cref="SwimNode"/>s. Every kind carries piggybacked updates; push-pull
/// messages carry the sender's whole member list in <see cref="State"/>.
/// </summary>
public sealed record GossipMessage(GossipMessageType Type, ulong From, ulong To)
{
    public ulong Seq { get; init; }

    /// <summary>The member a <see cref="GossipMessageType.PingReq"/> asks to probe.</summary>
    public ulong Target { get; init; }

    public IReadOnlyList<MemberUpdate> Updates { get; init; } = [];

    public IReadOnlyList<GossipMember> State { get; init; } = [];

    public override string ToString() => $"{Type} {From}->{To} seq {Seq}{(Type == GossipMessageType.PingReq ? $" target {Target}" : "")} +{Updates.Count}";
}
