using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Tests.Cluster;

public class PeerProtocolTests
{
    private static readonly Gen<RaftMessage> Messages =
        from type in Gen.Int[0, (int)MessageType.StorageAppended]
        from ids in Gen.ULong[0, 9].Array[2]
        from numbers in Gen.ULong.Array[5]
        from entries in Gen.Select(Gen.ULong, Gen.ULong, Gen.Bool, Gen.Byte.Array[0, 40], (t, i, conf, d) => new RaftEntry(t, i, conf ? EntryType.ConfChange : EntryType.Normal, d)).Array[0, 4]
        from reject in Gen.Bool
        from context in Gen.Byte.Array[0, 9]
        from snapshot in Gen.Bool
        from chunk in Gen.Byte.Array[0, 30]
        select new RaftMessage
        {
            Type = (MessageType)type,
            From = ids[0],
            To = ids[1],
            Term = numbers[0],
            LogTerm = numbers[1],
            Index = numbers[2],
            Commit = numbers[3],
            RejectHint = numbers[4],
            Reject = reject,
            Entries = entries,
            Context = context,
            SentAtTick = numbers[0] ^ numbers[1],
            SnapshotMetadata = snapshot ? new SnapshotMetadata(numbers[2], numbers[1], new ConfState([1, 2], [3], [4], [], reject)) : null,
            SnapshotOffset = (long)(numbers[3] >> 2),
            SnapshotChunk = chunk,
            SnapshotDone = snapshot && reject,
        };

    [Fact]
    public void Every_raft_message_survives_the_wire()
    {
        Messages.Sample(m =>
        {
            var wire = ShardMessage.Parser.ParseFrom(Google.Protobuf.MessageExtensions.ToByteArray(RaftMessageCodec.Encode(11, m)));
            Assert.Equal(11u, wire.Shard);
            var back = RaftMessageCodec.Decode(wire)!;
            Assert.Equal(m.ToString(), back.ToString());
            Assert.Equal(m.Context, back.Context);
            Assert.Equal(m.SnapshotChunk, back.SnapshotChunk);
            Assert.Equal(m.SentAtTick, back.SentAtTick);
            Assert.Equal(m.SnapshotOffset, back.SnapshotOffset);
            Assert.Equal(m.SnapshotMetadata?.ConfState.ToString(), back.SnapshotMetadata?.ConfState.ToString());
            Assert.Equal(m.Entries.Select(e => Convert.ToHexString(e.Data)), back.Entries.Select(e => Convert.ToHexString(e.Data)));
        });
    }

    [Fact]
    public void A_message_of_an_unknown_type_is_refused_not_misread()
    {
        Assert.Null(RaftMessageCodec.Decode(new ShardMessage { Type = 200 }));
        var entry = new ShardMessage { Type = (uint)MessageType.Append };
        entry.Entries.Add(new Entry { Type = 9 });
        Assert.Null(RaftMessageCodec.Decode(entry));
    }

    [Fact]
    public void A_timed_fault_expires_on_its_own()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var faults = new NetworkFaults(time, NullLogger<NetworkFaults>.Instance);
        var ends = faults.NowMs + 11_000;
        faults.Set(new FaultState { Partition = new PartitionFault(new HashSet<ulong> { 2 }, new HashSet<ulong> { 3 }, ends), Pause = new PauseFault(ends) });
        Assert.True(faults.DropOutbound(2));
        Assert.False(faults.DropOutbound(3));
        Assert.True(faults.DropInbound(3));
        Assert.True(faults.Paused);
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.False(faults.DropOutbound(2));
        Assert.False(faults.DropInbound(3));
        Assert.False(faults.Paused);
        Assert.False(faults.Any);
    }

    [Fact]
    public void Each_fault_keeps_its_own_end_and_says_how_long_it_has_left()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var faults = new NetworkFaults(time, NullLogger<NetworkFaults>.Instance);
        void Inject(FaultSpec spec) => faults.Update(current => current.With(spec, faults.NowMs));

        Inject(new FaultSpec { Action = "partition", Peers = [3], ForSeconds = 11 });
        time.Advance(TimeSpan.FromSeconds(1));
        Inject(new FaultSpec { Action = "loss", Rate = 1, Peers = [2], ForSeconds = 60 });
        Inject(new FaultSpec { Action = "delay", DelayMs = 40, Peers = [2], ForSeconds = 2 });
        Inject(new FaultSpec { Action = "pause" });
        Assert.Equal("partition drop to [3], drop from [3] (10.0 s left); delay 40±0 ms to [2] (2.0 s left); loss 100% to [2] (60.0 s left); pause raft, gossip and clicks (until healed)", faults.Current().Describe(faults.NowMs));

        // The loss injected after the partition neither shortened nor extended it, and the short delay ends first.
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.Zero, faults.DelayTo(2));
        Assert.True(faults.DropInbound(3));
        time.Advance(TimeSpan.FromSeconds(8));
        Assert.False(faults.DropInbound(3));
        Assert.False(faults.DropOutbound(3));
        Assert.True(faults.DropOutbound(2));
        Assert.True(faults.Paused);
        Assert.Equal("loss 100% to [2] (50.0 s left); pause raft, gossip and clicks (until healed)", faults.Current().Describe(faults.NowMs));

        // A new fault of a kind replaces the old one of that kind only.
        Inject(new FaultSpec { Action = "loss", Rate = 1, Peers = [4], ForSeconds = 1 });
        Assert.False(faults.DropOutbound(2));
        Assert.True(faults.DropOutbound(4));
        Inject(new FaultSpec { Action = "heal" });
        Assert.False(faults.Any);
        Assert.Equal("none", faults.Current().Describe(faults.NowMs));
    }

    [Fact]
    public void Every_node_measures_a_faults_duration_from_its_arrival_whatever_its_wall_clock_says()
    {
        // Two nodes whose wall clocks are a day apart get the same fault for 11 s: each heals 11 s
        // after it arrived (an absolute end set by the node that fanned it out would have healed
        // one at once and kept the other cut off for a day).
        var spec = new FaultSpec { Action = "partition", Isolate = ["dc3"], ForSeconds = 11 };
        var topology = new Core.Cluster.ClusterTopology(
            Enumerable.Range(1, 3).Select(i => new Core.Cluster.ClusterMember((ulong)i, $"dc{i}", $"http://p{i}", $"http://h{i}")).ToArray(), 4, 3, 1, 7);
        var nodes = new[] { (Id: 1UL, Utc: DateTimeOffset.UnixEpoch.AddYears(40)), (Id: 3UL, Utc: DateTimeOffset.UnixEpoch.AddYears(40).AddDays(1)) }
            .Select(n => (n.Id, Time: new FakeTimeProvider(n.Utc)))
            .Select(n => (n.Id, n.Time, Faults: new NetworkFaults(n.Time, NullLogger<NetworkFaults>.Instance)))
            .ToList();
        foreach (var (id, _, faults) in nodes)
        {
            var local = FaultInjector.ForNode(topology, spec, id);
            Assert.Equal(11, local.ForSeconds);
            faults.Update(current => current.With(local, faults.NowMs));
        }

        Assert.All(nodes, n => Assert.True(n.Faults.Any));
        nodes.ForEach(n => n.Time.Advance(TimeSpan.FromSeconds(10.9)));
        Assert.All(nodes, n => Assert.True(n.Faults.Any));
        nodes.ForEach(n => n.Time.Advance(TimeSpan.FromSeconds(0.1)));
        Assert.All(nodes, n => Assert.False(n.Faults.Any));
    }

    [Fact]
    public void Isolating_a_data_centre_cuts_every_link_across_it_and_only_those()
    {
        var topology = new Core.Cluster.ClusterTopology(
            Enumerable.Range(1, 5).Select(i => new Core.Cluster.ClusterMember((ulong)i, $"dc{((i - 1) % 3) + 1}", $"http://p{i}", $"http://h{i}")).ToArray(), 16, 3, 1, 7);
        var spec = new FaultSpec { Action = "partition", Isolate = ["dc3"], ForSeconds = 99 };

        // dc3 is node 3 alone; nodes 1, 2, 4, 5 are the other side.
        Assert.Equal([1UL, 2, 4, 5], FaultInjector.ForNode(topology, spec, 3).Peers);
        Assert.All(new ulong[] { 1, 2, 4, 5 }, n => Assert.Equal([3UL], FaultInjector.ForNode(topology, spec, n).Peers));
        Assert.All(new ulong[] { 1, 3 }, n => Assert.Equal(99, FaultInjector.ForNode(topology, spec, n).ForSeconds));

        // One-way, seen from the isolated side: it cannot send; the others therefore cannot receive.
        var oneWay = spec with { Direction = "outbound", Isolate = ["dc1"] };
        Assert.Equal("outbound", FaultInjector.ForNode(topology, oneWay, 4).Direction);
        Assert.Equal([2UL, 3, 5], FaultInjector.ForNode(topology, oneWay, 4).Peers);
        Assert.Equal("inbound", FaultInjector.ForNode(topology, oneWay, 2).Direction);
        Assert.Equal([1UL, 4], FaultInjector.ForNode(topology, oneWay, 2).Peers);
    }

    [Theory]
    [InlineData("""{"action":"explode"}""", "unknown action")]
    [InlineData("""{"action":"partition"}""", "needs 'isolate'")]
    [InlineData("""{"action":"partition","peers":[2],"direction":"sideways"}""", "direction")]
    [InlineData("""{"action":"delay"}""", "delayMs")]
    [InlineData("""{"action":"loss","rate":2}""", "rate")]
    [InlineData("""{"action":"pause","forSeconds":-1}""", "forSeconds")]
    [InlineData("""{"action":"heal","scope":"galaxy"}""", "scope")]
    [InlineData("""not json""", "not valid JSON")]
    public void Bad_fault_specs_are_refused_with_a_reason(string json, string reason)
    {
        var (spec, error) = FaultInjector.Parse(json);
        Assert.Null(spec);
        Assert.Contains(reason, error);
    }
}
