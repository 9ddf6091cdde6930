using System.Text;
using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftReplicationTests
{
    [Fact]
    public void Proposals_commit_on_a_quorum_and_apply_in_the_same_order_everywhere()
    {
        var net = new RaftNetwork(5);
        net.Campaign(1);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ProposalStatus.Appended, net.Propose(1, $"v{i}").Status);
        }

        // The leader's no-op and the 20 proposals.
        var expected = net.Applied(1).Select(e => (e.Index, e.Term, Encoding.UTF8.GetString(e.Data))).ToList();
        Assert.Equal(21, expected.Count);
        Assert.All(net.Ids, id => Assert.Equal(expected, net.Applied(id).Select(e => (e.Index, e.Term, Encoding.UTF8.GetString(e.Data)))));
    }

    [Fact]
    public void A_follower_forwards_proposals_to_the_leader()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        var result = net.Propose(2, "via-follower");
        Assert.Equal(ProposalStatus.Forwarded, result.Status);
        Assert.Equal(1UL, result.LeaderHint);
        Assert.Equal("via-follower", Encoding.UTF8.GetString(net.Applied(3)[^1].Data));
    }

    [Fact]
    public void Without_a_leader_or_with_forwarding_off_a_proposal_is_refused_with_a_hint()
    {
        var net = new RaftNetwork(3, (_, c) => c with { DisableProposalForwarding = true });
        var none = net.Propose(2, "x");
        Assert.Equal(ProposalStatus.NotLeader, none.Status);
        Assert.Equal(RaftNode.None, none.LeaderHint);
        Assert.Contains("no leader", none.Reason);

        net.Campaign(1);
        var refused = net.Propose(2, "x");
        Assert.Equal(ProposalStatus.NotLeader, refused.Status);
        Assert.Equal(1UL, refused.LeaderHint);
    }

    [Fact]
    public void The_leader_refuses_proposals_beyond_the_uncommitted_limit()
    {
        var net = new RaftNetwork(3, (_, c) => c with { MaxUncommittedEntriesSize = 100 });
        net.Campaign(1);
        net.Isolate(1);
        Assert.Equal(ProposalStatus.Appended, net.Propose(1, new string('a', 60)).Status);
        var over = net.Propose(1, new string('b', 60));
        Assert.Equal(ProposalStatus.Dropped, over.Status);
        Assert.Contains("uncommitted", over.Reason);

        // Once the first commits and is applied, there is room again.
        net.Heal();
        net.TickAll(2);
        Assert.Equal(ProposalStatus.Appended, net.Propose(1, new string('c', 60)).Status);
    }

    [Fact]
    public void Appends_are_batched_up_to_the_message_size_limit()
    {
        var net = new RaftNetwork(3, (_, c) => c with { MaxSizePerMessage = 250 });
        net.Campaign(1);
        net.Isolate(2);
        for (var i = 0; i < 10; i++)
        {
            net.Propose(1, new string('x', 100));
        }

        net.Heal();
        net.Delivered.Clear();
        net.TickAll(1);
        var appends = net.Delivered.Where(m => m.Type == MessageType.Append && m.To == 2 && m.Entries.Count > 0).ToList();
        Assert.True(appends.Count >= 4, $"{appends.Count} appends");
        Assert.All(appends, m => Assert.True(m.Entries.Count == 1 || m.Entries.Sum(e => e.PayloadSize) <= 250));
        Assert.Equal(net[1].LastIndex, net[2].LastIndex);
    }

    [Fact]
    public void The_inflight_window_pauses_a_slow_follower()
    {
        var net = new RaftNetwork(3, (_, c) => c with { MaxInflightMessages = 2, MaxSizePerMessage = 1 });
        net.Campaign(1);

        // 2 acknowledges nothing: the leader stops after two unanswered appends.
        net.CutOneWay(2, 1);
        net.Delivered.Clear();
        for (var i = 0; i < 6; i++)
        {
            net.Propose(1, "p" + i);
        }

        var toTwo = net.Delivered.Count(m => m.Type == MessageType.Append && m.To == 2 && m.Entries.Count > 0);
        Assert.Equal(2, toTwo);
        Assert.Contains("Replicate", net[1].Status().Progress[2]);
        Assert.Contains("paused", net[1].Status().Progress[2]);

        net.Heal();
        net.TickAll(3);
        Assert.Equal(net[1].LastIndex, net[2].LastIndex);
    }

    [Fact]
    public void A_divergent_follower_is_repaired_with_few_round_trips()
    {
        // Node 3 leads term 2 alone and piles up 50 entries nobody else has.
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false, CheckQuorum = false });
        net.Campaign(3);
        net.Isolate(3);
        for (var i = 0; i < 50; i++)
        {
            net.ProposeQuietly(3, $"stale{i}");
        }

        net.Stabilize();

        // Meanwhile 1 and 2 move on in a later term with 50 entries of their own; then 2 takes over,
        // so it starts probing 3 from the end of its log, far past where the logs diverge.
        net.Campaign(1);
        for (var i = 0; i < 50; i++)
        {
            net.Propose(1, $"fresh{i}");
        }

        net.Campaign(2);
        Assert.Equal(RaftRole.Leader, net[2].Role);
        net.Heal();
        net.Delivered.Clear();
        net.TickAll(3);

        // The conflict hint skips 3's whole stale term at once instead of one index per round trip.
        var rejections = net.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.From == 3 && m.Reject);
        Assert.InRange(rejections, 1, 3);
        Assert.Equal(net[2].LastIndex, net[3].LastIndex);
        Assert.DoesNotContain(net.Applied(3), e => Encoding.UTF8.GetString(e.Data).StartsWith("stale", StringComparison.Ordinal));
        Assert.Null(RaftNetworkChecks.AppliedConflict(net));
    }

    [Fact]
    public void An_isolated_leader_steps_down_its_tail_is_truncated_and_it_rejoins_as_a_follower()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Propose(1, "before");
        net.Isolate(1);

        // Writes to the cut-off leader are appended but never committed.
        net.ProposeQuietly(1, "lost");
        net.Stabilize();
        var oldTerm = net[1].Term;
        var committedBefore = net[1].Committed;

        // The majority elects a new leader and writes on.
        for (var i = 0; i < 40 && (net.Leader() is null || net.Leader()!.Id == 1); i++)
        {
            net.TickAll();
        }

        var leader = net.Leader()!;
        Assert.NotEqual(1UL, leader.Id);
        Assert.True(leader.Term > oldTerm);
        net.Propose(leader.Id, "after");

        // Check-quorum: within an election timeout or two the cut-off leader notices and steps down.
        for (var i = 0; i < 25 && net[1].Role == RaftRole.Leader; i++)
        {
            net.TickAll();
        }

        Assert.Equal(RaftRole.Follower, net[1].Role);
        Assert.Equal(committedBefore, net[1].Committed);

        // Heal: the old leader follows, drops "lost", and catches up without raising any term.
        var termBeforeHeal = leader.Term;
        net.Heal();
        net.TickAll(5);
        Assert.Equal(termBeforeHeal, net[leader.Id].Term);
        Assert.Equal(RaftRole.Leader, net[leader.Id].Role);
        Assert.Equal(leader.Id, net[1].Lead);
        Assert.DoesNotContain(net.Applied(1), e => Encoding.UTF8.GetString(e.Data) == "lost");
        Assert.Contains(net.Applied(1), e => Encoding.UTF8.GetString(e.Data) == "after");
        Assert.Null(RaftNetworkChecks.AppliedConflict(net));
    }

    /// <summary>
    /// Figure 8 of the Raft paper, on three replicas A=1, B=2, C=3: a leader must not commit an
    /// entry of an earlier term by counting replicas, because a later leader that lacks it can still
    /// be elected and overwrite it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Figure_8_entries_of_an_earlier_term_are_not_committed_by_counting(bool plantBug)
    {
        var bugs = plantBug ? RaftBugs.CommitPreviousTermByCounting : RaftBugs.None;
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false, CheckQuorum = false, Bugs = bugs });

        // (a) A leads term 2 and appends X at index 3, which reaches nobody.
        net.Campaign(1);
        net.Isolate(1);
        net.ProposeQuietly(1, "X");
        net.Stabilize();
        var termX = net[1].Term;

        // (b) C wins term 3 with B's vote; its no-op (index 3, term 3) reaches nobody.
        net.Filter = m => !(m.From == 3 && m.Type == MessageType.Append);
        net.Campaign(3);
        Assert.Equal(RaftRole.Leader, net[3].Role);
        Assert.Equal(3UL, net[3].LastIndex);

        // (c) C is cut off; A restarts and wins a later term (its log ends with X, newer than B's)
        // and copies X to B, but its own new-term entries are held back. X is now on a majority
        // (A, B)...
        net.Filter = null;
        net.Heal();
        net.Isolate(3);
        net.Restart(1);
        net.Rewrite = m => m.From == 1 && m.Type == MessageType.Append
            ? m with { Entries = m.Entries.TakeWhile(e => e.Term <= termX).ToList() }
            : m;
        net.Campaign(1);
        net.Campaign(1); // (the first attempt may lose: B already voted in that term)
        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.TickAll(1);
        Assert.True(termX == net.Storage(2).Term(3), net.TraceText);

        // ...yet it must not count as committed: it is not of A's current term.
        if (!plantBug)
        {
            Assert.Equal(2UL, net[1].Committed);
            Assert.Equal(2UL, net[2].Committed);
            return;
        }

        Assert.Equal(3UL, net[1].Committed);
        Assert.Equal(3UL, net[2].Committed);

        // (d) With the planted bug: A goes down; C (log ends in term 3) wins term 5 with B's vote
        // and overwrites X at index 3, which B had already applied as committed.
        net.Rewrite = null;
        net.Heal();
        net.Isolate(1);
        net.Restart(3);
        var error = Record.Exception(() =>
        {
            net.Campaign(3);
            net.Campaign(3);
            net.TickAll(2);
        });
        Assert.True(error is InvalidOperationException || RaftNetworkChecks.AppliedConflict(net) is not null, net.TraceText);
    }
}
