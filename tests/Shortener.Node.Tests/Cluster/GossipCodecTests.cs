using Shortener.Core.Membership;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;

namespace Shortener.Node.Tests.Cluster;

public class GossipCodecTests
{
    private static GossipMember Member(ulong id, MemberStatus status) => new(id, "dc1", $"http://n{id}:9080", $"http://n{id}:8080", [id, id + 1], 3, status);

    [Fact]
    public void A_message_round_trips_with_its_updates_and_state()
    {
        var message = new GossipMessage(GossipMessageType.PingReq, 1, 2)
        {
            Seq = 77,
            Target = 3,
            Updates = [new MemberUpdate(Member(3, MemberStatus.Suspect), 4)],
            State = [Member(1, MemberStatus.Alive), Member(5, MemberStatus.Left)],
        };

        var decoded = GossipCodec.Decode(GossipCodec.Encode(message))!;
        Assert.Equal((message.Type, message.From, message.To, message.Seq, message.Target), (decoded.Type, decoded.From, decoded.To, decoded.Seq, decoded.Target));
        var update = Assert.Single(decoded.Updates);
        Assert.Equal(4UL, update.Source);
        Assert.Equal((3UL, MemberStatus.Suspect, 3UL), (update.Member.Id, update.Member.Status, update.Member.Incarnation));
        Assert.Equal([3UL, 4], update.Member.Tokens);
        Assert.Equal([5UL, 6], decoded.State[1].Tokens);
        Assert.Equal([MemberStatus.Alive, MemberStatus.Left], decoded.State.Select(m => m.Status));
    }

    [Fact]
    public void A_packet_this_version_cannot_read_decodes_to_nothing()
    {
        var good = GossipCodec.Encode(new GossipMessage(GossipMessageType.Gossip, 1, 2) { Updates = [new MemberUpdate(Member(3, MemberStatus.Alive), 3)] });

        var unknownType = good.Clone();
        unknownType.Type = 99;
        Assert.Null(GossipCodec.Decode(unknownType));

        var unknownStatus = good.Clone();
        unknownStatus.Updates[0].Status = 9;
        Assert.Null(GossipCodec.Decode(unknownStatus));

        var noId = good.Clone();
        noId.Updates[0].Id = 0;
        Assert.Null(GossipCodec.Decode(noId));
    }
}
