namespace Shortener.Core.Membership;

/// <summary>What gossip says of a member. Only a member itself declares <see cref="Left"/>.</summary>
public enum MemberStatus
{
    Alive,
    Suspect,
    Dead,
    Left,
}
