using Shortener.Core.Links;
using Shortener.Core.Replication;

namespace Shortener.Core.Tests.Replication;

public class ProposalFrameTests
{
    [Fact]
    public void A_framed_link_command_round_trips_and_garbage_is_refused()
    {
        var envelope = new LinkCommandEnvelope(new DeleteLink(5, "abc"), new IdempotencyToken("s", "k", "h"));
        var frame = ProposalFrame.Encode(new ProposalId(ulong.MaxValue, 42), LinkCommandCodec.Encode(envelope));
        var (id, payload) = ProposalFrame.Decode(frame);
        Assert.Equal(new ProposalId(ulong.MaxValue, 42), id);
        Assert.Equal(envelope, LinkCommandCodec.Decode(payload.Span));

        Assert.Throws<FormatException>(() => ProposalFrame.Decode([1, 2, 3]));
        Assert.Throws<FormatException>(() => ProposalFrame.Decode(new byte[20]));
        Assert.Throws<InvalidDataException>(() => LinkCommandCodec.Decode("{\"command\":"u8));
    }

    [Fact]
    public void The_frame_is_the_one_shards_wrote_before_the_driver_so_existing_logs_still_apply()
    {
        // [u8 1][u64 proposer][u64 id][JSON], little endian: the layout of the entries already on disk.
        var frame = ProposalFrame.Encode(new ProposalId(0x0102030405060708, 9), "{}"u8);
        Assert.Equal(1, frame[0]);
        Assert.Equal(new byte[] { 8, 7, 6, 5, 4, 3, 2, 1 }, frame[1..9]);
        Assert.Equal(new byte[] { 9, 0, 0, 0, 0, 0, 0, 0 }, frame[9..17]);
        Assert.Equal("{}"u8.ToArray(), frame[17..]);
    }
}
