namespace Shortener.Core.Membership;

/// <summary>
/// One member as gossip knows it: who (id, data centre, addresses, ring tokens) and what is said
/// of it (status at an incarnation). Only the member raises its incarnation, to refute suspicion;
/// a higher incarnation overrides anything said about a lower one.
/// </summary>
public sealed record GossipMember(ulong Id, string Dc, string PeerUrl, string HttpUrl, IReadOnlyList<ulong> Tokens, ulong Incarnation, MemberStatus Status)
{
    public bool IsUp => Status is MemberStatus.Alive or MemberStatus.Suspect;

    public override string ToString() => $"{Id}@{Dc} {Status} inc {Incarnation}";
}
