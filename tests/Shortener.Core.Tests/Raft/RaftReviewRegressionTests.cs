using System.Text;
using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

/// <summary>Defects found in review of the first Raft version; each test failed before its fix.</summary>
public class RaftReviewRegressionTests
{
    /// <summary>Under lease reads a just-started replica refuses votes for an election timeout: elect by ticking.</summary>
    private static void ElectByTicks(RaftNetwork net, ulong id)
    {
        net.TickAll(10);
        net.Campaign(id);
        Assert.Equal(RaftRole.Leader, net[id].Role);
    }

    private static byte[] Ctx(string s) => Encoding.UTF8.GetBytes(s);

    private static RaftConfig Lease(ulong id, RaftConfig c) => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased };

    [Fact]
    public void A_lease_read_arriving_after_the_lease_ran_out_is_answered_by_a_heartbeat_round()
    {
        var net = new RaftNetwork(3, Lease);
        ElectByTicks(net, 1);
        net.TickAll(2);
        net.Isolate(1);
        for (var i = 0; i < 9; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        net.Read(1, "expired");
        net.Stabilize();
        Assert.Empty(net.Reads(1));
        net.Heal();
        for (var i = 0; i < 5; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        Assert.Equal(RaftRole.Leader, net[1].Role);
        Assert.Single(net.Reads(1)); // fails if the queued read is never answered
    }

    [Fact]
    public void A_lease_read_after_a_transfer_is_not_stale()
    {
        var net = new RaftNetwork(3, Lease);
        ElectByTicks(net, 1);
        net.Propose(1, "a");
        net.TickAll(2);
        net[1].TransferLeadership(2);
        var sent = net.Collect(1);
        var timeoutNow = Assert.Single(sent, m => m.Type == MessageType.TimeoutNow);
        net.Isolate(1);
        net.Deliver(timeoutNow);
        net.Stabilize();
        Assert.Equal(RaftRole.Leader, net[2].Role);
        var b = net.Propose(2, "b");
        Assert.Equal(b.Index, net[2].Committed);

        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.Read(1, "r");
        net.Stabilize();
        var reads = net.Reads(1);
        Assert.True(reads.Count == 0 || reads[0].Index >= b.Index, $"old leader answered a lease read at {(reads.Count == 0 ? (ulong?)null : reads[0].Index)}, but {b.Index} was committed by term {net[2].Term}");
    }

    [Fact]
    public void A_lease_read_after_a_follower_restart_is_not_stale()
    {
        var net = new RaftNetwork(3, Lease);
        ElectByTicks(net, 1);
        net.Propose(1, "a");
        net.Cut(1, 3);
        net.TickAll(12); // 3 hears nothing from 1; 2 acks 1's heartbeats every tick
        net.Restart(2); // 2 crashes and comes back at once: it forgot it heard from 1
        net.Isolate(1);
        net.Stabilize();

        // Without the startup embargo 2 would vote for 3 at once, inside the lease it granted 1.
        net.Campaign(3);
        Assert.NotEqual(RaftRole.Leader, net[3].Role);

        // 1's lease runs out while 2 waits an election timeout; only then can 3 win.
        for (var i = 0; i < 12; i++)
        {
            net.Tick(1);
            net.Tick(2);
            net.Stabilize();
        }

        net.Campaign(3);
        Assert.Equal(RaftRole.Leader, net[3].Role);
        var b = net.Propose(3, "b");
        Assert.Equal(b.Index, net[3].Committed);

        net.Read(1, "r");
        net.Stabilize();
        var reads = net.Reads(1);
        Assert.True(reads.Count == 0 || reads[0].Index >= b.Index, $"old leader answered a lease read at {(reads.Count == 0 ? (ulong?)null : reads[0].Index)}, but {b.Index} was committed by term {net[3].Term}");
    }

    [Fact]
    public void A_membership_change_after_the_last_snapshot_survives_a_restart()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Add(4, ConfState.Empty);
        Assert.Equal(ProposalStatus.Appended, net[1].ProposeConfChange(ConfChange.Single(ConfChangeType.AddNode, 4)).Status);
        net.Stabilize();
        net.TickAll(3);
        Assert.Equal([1UL, 2, 3, 4], net[2].ConfState.Voters);
        net.Restart(2);
        Assert.Equal([1UL, 2, 3, 4], net[2].ConfState.Voters);
    }

    [Fact]
    public void A_snapshot_response_claims_only_entries_known_to_match()
    {
        // Follower 2: snapshot at 1, entries 2..5 of term 1, then 6..8 of term 2 (an old leader's, uncommitted).
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(1, 2, 3)), []));
        storage.Append([.. Enumerable.Range(2, 4).Select(i => new RaftEntry(1, (ulong)i, EntryType.Normal, [1])),
                        .. Enumerable.Range(6, 3).Select(i => new RaftEntry(2, (ulong)i, EntryType.Normal, [2]))]);
        storage.SetHardState(new HardState(2, 0, 1));
        var node = new RaftNode(new RaftConfig { Id = 2, Random = new SeededRandom(1) }, storage);

        // Leader 3 of term 3 sends its snapshot at (5, 1), which the follower's log matches.
        node.Step(new RaftMessage
        {
            Type = MessageType.Snapshot, From = 3, To = 2, Term = 3,
            SnapshotMetadata = new SnapshotMetadata(5, 1, ConfState.Of(1, 2, 3)), SnapshotOffset = 0, SnapshotChunk = [7], SnapshotDone = true,
        });
        var resp = node.GetReady().Messages.Single(m => m.Type == MessageType.SnapshotResponse);
        Assert.Equal(8UL, node.LastIndex);
        Assert.True(resp.Index <= 5, $"follower acknowledged up to {resp.Index}, but only 5 is known to match the leader");
    }

    [Fact]
    public void A_chunked_snapshot_completes_when_every_message_is_deserialised()
    {
        var net = new RaftNetwork(3, (_, c) => c with { SnapshotChunkSize = 4 });
        // A real transport deserialises every message: model that by copying the metadata.
        net.Rewrite = m => m.SnapshotMetadata is { } meta
            ? m with { SnapshotMetadata = meta with { ConfState = meta.ConfState with { Voters = meta.ConfState.Voters.ToArray(), Learners = meta.ConfState.Learners.ToArray(), VotersOutgoing = meta.ConfState.VotersOutgoing.ToArray(), LearnersNext = meta.ConfState.LearnersNext.ToArray() } } }
            : m;
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        var s = net.Storage(1);
        s.CreateSnapshot(net[1].Applied, net[1].ConfState, Enumerable.Range(0, 40).Select(i => (byte)i).ToArray());
        s.Compact(net[1].Applied);
        net.Heal();
        try
        {
            net.TickAll(5);
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail("network never settled: " + e.Message + "\n" + string.Join('\n', net.Trace.TakeLast(6)));
        }

        Assert.Equal(net[1].LastIndex, net[3].LastIndex);
    }
}

public class RaftSnapshotTrafficTests
{
    [Fact]
    public void Snapshot_chunks_are_not_multiplied_by_heartbeats_or_duplicates()
    {
        var net = new RaftNetwork(3, (_, c) => c with { SnapshotChunkSize = 4 });
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        var s = net.Storage(1);
        s.CreateSnapshot(net[1].Applied, net[1].ConfState, new byte[4 * 64]);
        s.Compact(net[1].Applied);
        net.Heal();

        // Every message takes 3 rounds to arrive; the leader ticks (and heartbeats) once per round.
        var queue = new List<(int Due, RaftMessage M)>();
        var snapshotMessages = 0;
        var maxInFlightChunks = 0;
        for (var round = 0; round < 2000 && net[3].LastIndex < net[1].LastIndex; round++)
        {
            net.Tick(1);
            foreach (var id in net.Ids)
            {
                foreach (var m in net.Collect(id))
                {
                    if (m.Type == MessageType.Snapshot)
                    {
                        snapshotMessages++;
                    }

                    queue.Add((round + 3, m));
                }
            }

            maxInFlightChunks = Math.Max(maxInFlightChunks, queue.Count(q => q.M.Type == MessageType.Snapshot));
            foreach (var (_, m) in queue.Where(q => q.Due <= round).ToList())
            {
                net.Deliver(m);
            }

            queue.RemoveAll(q => q.Due <= round);
        }

        Assert.Equal(net[1].LastIndex, net[3].LastIndex);
        Assert.True(snapshotMessages < 2 * 64, $"{snapshotMessages} snapshot messages for 64 chunks, {maxInFlightChunks} in flight at once");
    }
}

public class RaftMembershipRestartTests
{
    [Fact]
    public void A_restart_after_growing_to_five_voters_cannot_split_the_cluster()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Add(4, ConfState.Empty);
        net.Add(5, ConfState.Empty);
        var change = new ConfChange(ConfChangeTransition.Auto, [new ConfChangeSingle(ConfChangeType.AddNode, 4), new ConfChangeSingle(ConfChangeType.AddNode, 5)]);
        Assert.Equal(ProposalStatus.Appended, net[1].ProposeConfChange(change).Status);
        net.Stabilize();
        net.TickAll(3);
        Assert.Equal([1UL, 2, 3, 4, 5], net[3].ConfState.Voters);

        net.Restart(1);
        net.Restart(2);
        foreach (var a in new ulong[] { 1, 2 })
        {
            foreach (var b in new ulong[] { 3, 4, 5 })
            {
                net.Cut(a, b);
            }
        }

        net.TickAll(40); // both sides elect a leader
        var left = new ulong[] { 1, 2 }.Select(i => net[i]).SingleOrDefault(n => n.Role == RaftRole.Leader);
        var right = new ulong[] { 3, 4, 5 }.Select(i => net[i]).SingleOrDefault(n => n.Role == RaftRole.Leader);
        Assert.NotNull(right);
        if (left is not null)
        {
            var l = net.Propose(left.Id, "left");
            var r = net.Propose(right.Id, "right");
            Assert.False(left.Committed >= l.Index && right.Committed >= r.Index && l.Index == r.Index, $"index {l.Index} committed as 'left' by {left.Id} (term {left.Term}) and as 'right' by {right.Id} (term {right.Term})");
        }

        Assert.True(left is null, $"nodes 1 and 2 ({string.Join(' ', net[1].ConfState.Voters)}) elected {left?.Id} in term {left?.Term} while {right.Id} leads term {right.Term} for ({string.Join(' ', net[3].ConfState.Voters)})");
    }
}
