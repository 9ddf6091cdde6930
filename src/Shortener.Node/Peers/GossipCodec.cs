using Shortener.Core.Membership;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Peers;

/// <summary>Gossip messages to and from their protobuf form; a packet this version cannot read decodes to null.</summary>
public static class GossipCodec
{
    public static GossipPacket Encode(GossipMessage message)
    {
        var packet = new GossipPacket { Type = (uint)message.Type, From = message.From, To = message.To, Seq = message.Seq, Target = message.Target };
        packet.Updates.AddRange(message.Updates.Select(u => Encode(u.Member, u.Source)));
        packet.State.AddRange(message.State.Select(m => Encode(m, 0)));
        return packet;
    }

    public static GossipMessage? Decode(GossipPacket packet)
    {
        if (!Enum.IsDefined((GossipMessageType)packet.Type))
        {
            return null;
        }

        var updates = new List<MemberUpdate>(packet.Updates.Count);
        foreach (var u in packet.Updates)
        {
            if (Decode(u) is not { } member)
            {
                return null;
            }

            updates.Add(new MemberUpdate(member, u.Source));
        }

        var state = new List<GossipMember>(packet.State.Count);
        foreach (var s in packet.State)
        {
            if (Decode(s) is not { } member)
            {
                return null;
            }

            state.Add(member);
        }

        return new GossipMessage((GossipMessageType)packet.Type, packet.From, packet.To)
        {
            Seq = packet.Seq,
            Target = packet.Target,
            Updates = updates,
            State = state,
        };
    }

    private static GossipMemberState Encode(GossipMember member, ulong source)
    {
        var state = new GossipMemberState
        {
            Id = member.Id,
            Dc = member.Dc,
            PeerUrl = member.PeerUrl,
            HttpUrl = member.HttpUrl,
            Incarnation = member.Incarnation,
            Status = (uint)member.Status,
            Source = source,
        };
        state.Tokens.AddRange(member.Tokens);
        return state;
    }

    private static GossipMember? Decode(GossipMemberState s) =>
        s.Id == 0 || !Enum.IsDefined((MemberStatus)s.Status)
            ? null
            : new GossipMember(s.Id, s.Dc, s.PeerUrl, s.HttpUrl, s.Tokens.ToArray(), s.Incarnation, (MemberStatus)s.Status);
}
