namespace Shortener.Core.Membership;

/// <summary>A change in this node's view: <paramref name="Member"/> as it now stands, and its status before (null when new).</summary>
public readonly record struct MemberEvent(GossipMember Member, MemberStatus? Previous);
