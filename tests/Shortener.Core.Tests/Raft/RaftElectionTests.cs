using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftElectionTests
{
    [Fact]
    public void A_campaign_with_pre_vote_elects_a_leader_and_commits_its_no_op()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);

        Assert.Equal(RaftRole.Leader, net[1].Role);
        Assert.Equal(2UL, net[1].Term);
        Assert.All(net.Ids, id => Assert.Equal(1UL, net[id].Lead));

        // Pre-votes first (term unchanged), then real votes.
        Assert.Matches(@"1->2 PreVote term=2", net.TraceText);
        Assert.Matches(@"2->1 PreVoteResponse term=2", net.TraceText);
        Assert.Matches(@"1->2 Vote term=2", net.TraceText);

        // The leader's empty entry at index 2 is committed and applied everywhere.
        Assert.All(net.Ids, id => Assert.Equal(2UL, net[id].Committed));
        Assert.All(net.Ids, id => Assert.Equal(2UL, net.Applied(id)[^1].Index));
    }

    [Fact]
    public void The_election_timer_starts_a_campaign_on_its_own()
    {
        var net = new RaftNetwork(3);
        for (var i = 0; i < 40 && net.Leader() is null; i++)
        {
            net.TickAll();
        }

        Assert.NotNull(net.Leader());
        Assert.Single(net.Ids, id => net[id].Role == RaftRole.Leader);
    }

    [Fact]
    public void A_vote_is_refused_to_a_candidate_with_a_shorter_log()
    {
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false, CheckQuorum = false });
        net.Campaign(1);
        net.Isolate(3);
        net.Propose(1, "x");
        net.Heal();

        // 3 missed "x": its log is behind, so 1 and 2 refuse it.
        net.Campaign(3);
        Assert.NotEqual(RaftRole.Leader, net[3].Role);
        Assert.Null(RaftNetworkChecks.AppliedConflict(net));
        Assert.Matches(@"1->3 VoteResponse term=\d+ .*rejected", net.TraceText);
    }

    [Fact]
    public void With_the_planted_bug_a_behind_candidate_wins_and_overwrites_committed_entries()
    {
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false, CheckQuorum = false, Bugs = RaftBugs.VoteWithoutLogCheck });
        net.Campaign(1);
        net.Isolate(3);
        net.Propose(1, "x");
        Assert.Equal(3UL, net[1].Committed);
        net.Heal();

        // 3 wins without having "x", and commits its own entry at x's index: two replicas have now
        // applied different entries at the same index (or one refuses to overwrite a committed entry).
        var error = Record.Exception(() => net.Campaign(3));
        Assert.True(error is InvalidOperationException || RaftNetworkChecks.AppliedConflict(net) is not null, net.TraceText);
    }

    [Fact]
    public void Pre_vote_keeps_a_partitioned_node_from_raising_its_term()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        var term = net[1].Term;
        net.Isolate(3);
        for (var i = 0; i < 50; i++)
        {
            net.Tick(3);
            net.Stabilize();
        }

        Assert.Equal(term, net[3].Term);
        Assert.Equal(RaftRole.PreCandidate, net[3].Role);

        // Rejoining does not disturb the leader.
        net.Heal();
        net.TickAll(3);
        Assert.Equal(RaftRole.Leader, net[1].Role);
        Assert.Equal(term, net[1].Term);
        Assert.Equal(RaftRole.Follower, net[3].Role);
    }

    [Fact]
    public void Without_pre_vote_a_rejoining_node_deposes_the_leader()
    {
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false, CheckQuorum = false });
        net.Campaign(1);
        var term = net[1].Term;
        net.Isolate(3);
        for (var i = 0; i < 50; i++)
        {
            net.Tick(3);
            net.Stabilize();
        }

        Assert.True(net[3].Term > term + 1);
        net.Heal();

        // 3's next campaign carries its inflated term to everyone: the leader is deposed.
        net.TickAll(25);
        Assert.True(net[1].Term > term + 1, "the higher term reached the leader");
    }

    [Fact]
    public void Check_quorum_makes_an_isolated_leader_step_down_and_followers_ignore_a_disruptor()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Isolate(1);
        for (var i = 0; i < 25; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        Assert.Equal(RaftRole.Follower, net[1].Role);
    }

    [Fact]
    public void Followers_in_a_leader_lease_refuse_votes()
    {
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false });
        net.Campaign(1);
        var term = net[1].Term;

        // 3 campaigns while 2 still hears from 1: 2 refuses and keeps its term.
        net.Campaign(3);
        Assert.Equal(term, net[2].Term);
        Assert.Equal(RaftRole.Leader, net[1].Role);
    }

    [Fact]
    public void A_single_voter_elects_itself_and_commits_alone()
    {
        var net = new RaftNetwork(1);
        net.Campaign(1);
        Assert.Equal(RaftRole.Leader, net[1].Role);
        var result = net.Propose(1, "solo");
        Assert.Equal(ProposalStatus.Appended, result.Status);
        Assert.Equal(result.Index, net[1].Committed);
        Assert.Equal("solo", System.Text.Encoding.UTF8.GetString(net.Applied(1)[^1].Data));
    }

    [Fact]
    public void A_restarted_node_remembers_its_term_and_vote()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        var (term, vote) = (net[2].Term, net[2].Vote);
        net.Restart(2);
        Assert.Equal(term, net[2].Term);
        Assert.Equal(vote, net[2].Vote);
        Assert.Equal(RaftRole.Follower, net[2].Role);
    }
}
