namespace Shortener.Node.Membership;

/// <summary>A member as this node's gossip sees it: status (alive, suspect, dead, left), incarnation, and phi from its messages' arrival times.</summary>
public sealed record GossipMemberView(ulong Id, string Dc, string Status, ulong Incarnation, double Phi);
