using System.Text;
using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftReadIndexTests
{
    private static byte[] Ctx(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void The_leader_confirms_a_read_with_a_heartbeat_round()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Propose(1, "x");
        net.Delivered.Clear();
        net.Read(1, "r1");
        net.Stabilize();

        var read = Assert.Single(net.Reads(1));
        Assert.Equal(net[1].Committed, read.Index);
        Assert.Equal("r1", read.Label);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.Heartbeat && m.Context.Length > 0);
    }

    [Fact]
    public void A_leader_cut_off_from_its_quorum_cannot_confirm_a_read()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Isolate(1);
        net.Read(1, "r1");
        net.Stabilize();
        Assert.Empty(net.Reads(1));

        // One follower is enough for a quorum of three.
        net.Heal();
        net.Isolate(3);
        net.TickAll(1);
        Assert.Single(net.Reads(1));
    }

    [Fact]
    public void A_follower_asks_the_leader_for_the_read_index()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Propose(1, "x");
        net.Read(2, "f1");
        net.Stabilize();
        var read = Assert.Single(net.Reads(2));
        Assert.Equal(net[1].Committed, read.Index);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.ReadIndex && m.From == 2 && m.To == 1);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.ReadIndexResponse && m.To == 2);
    }

    [Fact]
    public void With_the_planted_bug_a_cut_off_follower_answers_reads_from_its_stale_state()
    {
        var net = new RaftNetwork(3, (_, c) => c with { Bugs = RaftBugs.FollowerLocalReads });
        net.Campaign(1);
        net.Isolate(3);
        net.Propose(1, "newer");
        net.Read(3, "stale");
        net.Stabilize();

        // It answered at once, from an index that misses a committed write.
        var read = Assert.Single(net.Reads(3));
        Assert.True(read.Index < net[1].Committed);
    }

    [Fact]
    public void A_new_leader_holds_reads_until_an_entry_of_its_term_commits()
    {
        var net = new RaftNetwork(3);
        net.Filter = m => !(m.From == 1 && m.Type == MessageType.Append);
        net.Campaign(1);
        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.Read(1, "early");
        net.Stabilize();
        Assert.Empty(net.Reads(1));

        net.Filter = null;
        net.TickAll(1);
        var read = Assert.Single(net.Reads(1));
        Assert.Equal(net[1].Committed, read.Index);
    }

    [Fact]
    public void Lease_reads_skip_the_heartbeat_round_while_the_lease_holds()
    {
        var net = new RaftNetwork(3, (_, c) => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased });

        // Under lease reads a replica refuses votes for an election timeout after it starts.
        net.Campaign(1);
        Assert.NotEqual(RaftRole.Leader, net[1].Role);
        net.TickAll(10);
        net.Campaign(1);
        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.TickAll(2);
        net.Delivered.Clear();
        net.Read(1, "lease");
        net.Stabilize();
        Assert.Single(net.Reads(1));
        Assert.DoesNotContain(net.Delivered, m => m.Type == MessageType.Heartbeat);

        // Cut off for longer than an election timeout, the lease has run out: no answer without a quorum.
        net.Isolate(1);
        for (var i = 0; i < 9; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        net.Read(1, "expired");
        net.Stabilize();
        Assert.Single(net.Reads(1));
    }

    [Fact]
    public void Lease_reads_need_check_quorum()
    {
        Assert.Throws<ArgumentException>(() => new RaftConfig { Id = 1, Random = new SeededRandom(1), ReadOnlyOption = ReadOnlyOption.LeaseBased, CheckQuorum = false }.Validate());
    }
}
