using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftTransferTests
{
    [Fact]
    public void Leadership_moves_to_an_up_to_date_follower_at_once()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Propose(1, "x");
        var term = net[1].Term;
        net[1].TransferLeadership(2);
        net.Stabilize();
        Assert.Equal(RaftRole.Leader, net[2].Role);
        Assert.Equal(term + 1, net[2].Term);
        Assert.Equal(2UL, net[1].Lead);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.TimeoutNow && m.To == 2);
    }

    [Fact]
    public void A_lagging_target_is_caught_up_first_and_proposals_wait()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Isolate(3);
        net.Propose(1, "x");
        net.Propose(1, "y");
        net[1].TransferLeadership(3);
        net.Stabilize();
        Assert.Equal(3UL, net[1].LeadTransferee);
        var refused = net.ProposeQuietly(1, "refused");
        Assert.Equal(ProposalStatus.Dropped, refused.Status);
        Assert.Contains("transferred", refused.Reason);

        net.Heal();
        net.TickAll(2);
        Assert.Equal(RaftRole.Leader, net[3].Role);
        Assert.Null(RaftNetworkChecks.AppliedConflict(net));
    }

    [Fact]
    public void A_transfer_that_cannot_finish_is_abandoned_after_an_election_timeout()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Isolate(3);
        net[1].TransferLeadership(3);
        net.Stabilize();
        Assert.Equal(3UL, net[1].LeadTransferee);
        for (var i = 0; i < 11; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        Assert.Equal(RaftNode.None, net[1].LeadTransferee);
        Assert.Equal(RaftRole.Leader, net[1].Role);
        Assert.Equal(ProposalStatus.Appended, net.Propose(1, "again").Status);
    }

    [Fact]
    public void A_follower_forwards_a_transfer_request_and_a_transfer_overrides_leases()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);

        // Followers are in 1's lease, yet the TimeoutNow campaign is granted.
        net[3].TransferLeadership(3);
        net.Stabilize();
        Assert.Equal(RaftRole.Leader, net[3].Role);
    }
}
