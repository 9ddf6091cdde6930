namespace Shortener.Core.Membership;

/// <summary>A piece of gossip: <paramref name="Member"/> as <paramref name="Source"/> declared it (the source counts as a suspicion's confirmation).</summary>
public readonly record struct MemberUpdate(GossipMember Member, ulong Source);
