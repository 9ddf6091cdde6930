using System.Text;
using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftSnapshotTests
{
    [Fact]
    public void A_follower_behind_the_compacted_log_gets_the_snapshot_in_chunks_then_entries()
    {
        var net = new RaftNetwork(3, (_, c) => c with { SnapshotChunkSize = 10 });
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            net.Propose(1, $"e{i}");
        }

        // The leader snapshots what it applied and drops the log below it.
        var applied = net[1].Applied;
        var data = Encoding.UTF8.GetBytes(string.Join(",", net.Applied(1).Select(e => Encoding.UTF8.GetString(e.Data))));
        Assert.True(data.Length > 25);
        net.Storage(1).CreateSnapshot(applied, net[1].ConfState, data);
        net.Storage(1).Compact(applied);
        net.Propose(1, "after-snapshot");

        net.Heal();
        net.Delivered.Clear();
        net.TickAll(3);

        var chunks = net.Delivered.Where(m => m.Type == MessageType.Snapshot && m.To == 3).ToList();
        Assert.Equal((data.Length + 9) / 10, chunks.Count);
        Assert.True(chunks[^1].SnapshotDone);
        Assert.Equal(data, chunks.SelectMany(c => c.SnapshotChunk).ToArray());

        // The follower restored the snapshot and then got the entries after it.
        Assert.Equal(data, net.Storage(3).Snapshot().Data);
        Assert.Equal(net[1].LastIndex, net[3].LastIndex);
        Assert.Equal("after-snapshot", Encoding.UTF8.GetString(net.Applied(3)[^1].Data));
        Assert.Equal(applied, net.Applied(3)[0].Index);
    }

    /// <summary>
    /// Found by the simulator: a leader that took a newer snapshot during a transfer started over
    /// with it, so a follower whose transfer took longer than the leader took between snapshots
    /// never caught up.
    /// </summary>
    [Fact]
    public void A_transfer_finishes_with_the_snapshot_it_started_with_when_the_leader_takes_a_newer_one()
    {
        var net = new RaftNetwork(3, (_, c) => c with { SnapshotChunkSize = 4 });
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        var first = net[1].Applied;
        net.Storage(1).CreateSnapshot(first, net[1].ConfState, Encoding.UTF8.GetBytes("first snapshot"));
        net.Storage(1).Compact(first);

        // The transfer starts: one chunk goes, its answer is held back.
        net.Heal();
        net.Filter = m => m.Type != MessageType.SnapshotResponse;
        net.TickAll(1);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.Snapshot && m.To == 3);

        // Meanwhile the leader moves on and takes a newer snapshot.
        net.Isolate(3);
        net.Propose(1, "more");
        var second = net[1].Applied;
        net.Storage(1).CreateSnapshot(second, net[1].ConfState, Encoding.UTF8.GetBytes("second snapshot"));
        net.Storage(1).Compact(second);

        net.Heal();
        net.Filter = null;
        net.TickAll(10);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.Snapshot && m.To == 3 && m.SnapshotMetadata!.Index == first && m.SnapshotDone);
        Assert.Equal(net[1].LastIndex, net[3].LastIndex);
    }

    [Fact]
    public void A_lost_chunk_is_sent_again_and_an_out_of_order_one_is_refused()
    {
        var net = new RaftNetwork(3, (_, c) => c with { SnapshotChunkSize = 4 });
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        var data = Encoding.UTF8.GetBytes("0123456789abcdef");
        net.Storage(1).CreateSnapshot(net[1].Applied, net[1].ConfState, data);
        net.Storage(1).Compact(net[1].Applied);
        net.Heal();

        var droppedOnce = false;
        net.Filter = m =>
        {
            if (m.Type == MessageType.Snapshot && m.SnapshotOffset == 4 && !droppedOnce)
            {
                droppedOnce = true;
                return false;
            }

            return true;
        };
        net.TickAll(15);
        Assert.True(droppedOnce);
        Assert.Equal(data, net.Storage(3).Snapshot().Data);
        Assert.Equal(net[1].LastIndex, net[3].LastIndex);

        // A chunk arriving out of order is answered with the offset the follower needs.
        var follower = new RaftNetwork(2);
        follower.Campaign(1);
        var meta = new SnapshotMetadata(50, 2, follower[1].ConfState);
        follower.Deliver(new RaftMessage { Type = MessageType.Snapshot, From = 1, To = 2, Term = follower[1].Term, SnapshotMetadata = meta, SnapshotOffset = 8, SnapshotChunk = [1, 2] });
        var reply = follower.Collect(2).Single(m => m.Type == MessageType.SnapshotResponse);
        Assert.Equal(0, reply.SnapshotOffset);
        Assert.False(reply.SnapshotDone);
    }

    [Fact]
    public void A_restarted_node_recovers_from_its_snapshot_and_log()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        var s = net.Storage(2);
        s.CreateSnapshot(net[2].Applied, net[2].ConfState, [9]);
        s.Compact(net[2].Applied);
        net.Propose(1, "tail");
        var (commit, last) = (net[2].Committed, net[2].LastIndex);
        net.Restart(2);
        Assert.Equal(commit, net[2].Committed);
        Assert.Equal(last, net[2].LastIndex);
        net.Propose(1, "more");
        Assert.Equal(net[1].LastIndex, net[2].LastIndex);
    }
}

public class RaftRecoveryTests
{
    /// <summary>Found by the simulator: a crash after a received snapshot is written but before the hard state after it is.</summary>
    [Fact]
    public void A_snapshot_newer_than_the_stored_commit_index_is_accepted_on_restart()
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(40, 3, ConfState.Of(1, 2, 3)), [1]));
        storage.SetHardState(new HardState(3, 2, 25));
        var node = new RaftNode(new RaftConfig { Id = 1, Random = new SeededRandom(1), Applied = 25 }, storage);
        Assert.Equal(40UL, node.Committed);
        Assert.Equal(40UL, node.Applied);
        Assert.Equal(3UL, node.Term);
    }

    [Fact]
    public void A_stored_commit_index_beyond_the_log_is_refused()
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(5, 1, ConfState.Of(1, 2, 3)), []));
        storage.SetHardState(new HardState(1, 0, 9));
        var error = Assert.Throws<InvalidOperationException>(() => new RaftNode(new RaftConfig { Id = 1, Random = new SeededRandom(1) }, storage));
        Assert.Contains("lost entries", error.Message);
    }
}
