using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Raft;

public class RaftMembershipTests
{
    private static ConfChange Add(ulong id) => ConfChange.Single(ConfChangeType.AddNode, id);

    private static ConfChange Learner(ulong id) => ConfChange.Single(ConfChangeType.AddLearner, id);

    private static ConfChange Remove(ulong id) => ConfChange.Single(ConfChangeType.RemoveNode, id);

    [Fact]
    public void A_learner_catches_up_without_voting_then_is_promoted()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        net.Add(4, ConfState.Empty);
        Assert.Equal(ProposalStatus.Appended, net[1].ProposeConfChange(Learner(4)).Status);
        net.Stabilize();
        net.TickAll(3);
        Assert.Equal([4UL], net[1].ConfState.Learners);
        Assert.Equal(net[1].LastIndex, net[4].LastIndex);

        // A learner does not count towards the quorum: with 2 and 3 gone nothing commits.
        net.Isolate(2);
        net.Isolate(3);
        var committed = net[1].Committed;
        net.Propose(1, "needs-a-voter");
        Assert.Equal(committed, net[1].Committed);

        // Nor does it ever campaign.
        for (var i = 0; i < 30; i++)
        {
            net.Tick(4);
            net.Stabilize();
        }

        Assert.Equal(RaftRole.Follower, net[4].Role);

        net.Heal();
        net.TickAll(2);
        net[1].ProposeConfChange(Add(4));
        net.Stabilize();
        net.TickAll(2);
        Assert.Equal([1UL, 2, 3, 4], net[1].ConfState.Voters);
        Assert.Empty(net[1].ConfState.Learners);
        Assert.Equal([1UL, 2, 3, 4], net[4].ConfState.Voters);
    }

    [Fact]
    public void Replacing_two_voters_goes_through_a_joint_configuration_and_leaves_it_automatically()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Add(4, ConfState.Empty);
        net.Add(5, ConfState.Empty);
        var change = new ConfChange(ConfChangeTransition.Auto, [
            new ConfChangeSingle(ConfChangeType.AddNode, 4),
            new ConfChangeSingle(ConfChangeType.AddNode, 5),
            new ConfChangeSingle(ConfChangeType.RemoveNode, 2),
            new ConfChangeSingle(ConfChangeType.RemoveNode, 3),
        ]);
        Assert.Equal(ProposalStatus.Appended, net[1].ProposeConfChange(change).Status);
        net.Stabilize();
        net.TickAll(3);

        var final = net[1].ConfState;
        Assert.Equal([1UL, 4, 5], final.Voters);
        Assert.False(final.IsJoint);
        // Two changes applied: into the joint configuration, and (on its own) out of it.
        var applied = net.Memberships(1);
        Assert.Equal(2, applied.Count);
        Assert.True(applied[0].Config.IsJoint);
        Assert.False(applied[1].Config.IsJoint);

        // The new configuration works without the removed voters.
        net.Isolate(2);
        net.Isolate(3);
        var result = net.Propose(1, "new-config");
        Assert.Equal(result.Index, net[1].Committed);
    }

    [Fact]
    public void In_a_joint_configuration_both_majorities_must_agree()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Add(4, ConfState.Empty);
        net.Add(5, ConfState.Empty);
        var change = new ConfChange(ConfChangeTransition.JointExplicit, [
            new ConfChangeSingle(ConfChangeType.AddNode, 4),
            new ConfChangeSingle(ConfChangeType.AddNode, 5),
            new ConfChangeSingle(ConfChangeType.RemoveNode, 2),
            new ConfChangeSingle(ConfChangeType.RemoveNode, 3),
        ]);
        net[1].ProposeConfChange(change);
        net.Stabilize();
        net.TickAll(2);
        Assert.True(net[1].ConfState.IsJoint);

        // Old side (1,2,3) has 1 only without 2 and 3: no majority there, nothing commits.
        net.Isolate(2);
        net.Isolate(3);
        var committed = net[1].Committed;
        net.Propose(1, "x");
        Assert.Equal(committed, net[1].Committed);

        net.Heal();
        net.TickAll(2);
        Assert.True(net[1].Committed > committed);

        // Explicit: only an empty change leaves it.
        net[1].ProposeConfChange(ConfChange.LeaveJoint);
        net.Stabilize();
        net.TickAll(2);
        Assert.False(net[1].ConfState.IsJoint);
        Assert.Equal([1UL, 4, 5], net[1].ConfState.Voters);
    }

    [Fact]
    public void Only_one_change_may_be_pending_and_invalid_changes_are_refused()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Isolate(2);
        net.Isolate(3);
        Assert.Equal(ProposalStatus.Appended, net[1].ProposeConfChange(Learner(4)).Status);
        var second = net[1].ProposeConfChange(Learner(5));
        Assert.Equal(ProposalStatus.Dropped, second.Status);
        Assert.Contains("pending", second.Reason);
        net.Heal();
        net.TickAll(2);

        var twoVoters = net[1].ProposeConfChange(new ConfChange(ConfChangeTransition.Auto, [new(ConfChangeType.RemoveNode, 2)]) with
        {
            Transition = ConfChangeTransition.Auto,
        });
        Assert.Equal(ProposalStatus.Appended, twoVoters.Status);
        net.TickAll(2);

        var removeAll = net[1].ProposeConfChange(new ConfChange(ConfChangeTransition.JointImplicit, [new(ConfChangeType.RemoveNode, 1), new(ConfChangeType.RemoveNode, 3)]));
        Assert.Equal(ProposalStatus.Dropped, removeAll.Status);
        Assert.Contains("every voter", removeAll.Reason);
        Assert.Equal(ProposalStatus.Dropped, net[1].ProposeConfChange(ConfChange.LeaveJoint).Status);
    }

    [Fact]
    public void A_removed_leader_steps_down_and_the_rest_elect_a_new_one()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net[1].ProposeConfChange(Remove(1));
        net.Stabilize();
        net.TickAll(2);
        Assert.Equal([2UL, 3], net[2].ConfState.Voters);
        Assert.NotEqual(RaftRole.Leader, net[1].Role);

        for (var i = 0; i < 40 && (net.Leader() is null || net.Leader()!.Id == 1); i++)
        {
            net.TickAll();
        }

        Assert.Contains(net.Leader()!.Id, new ulong[] { 2, 3 });
        var result = net.Propose(net.Leader()!.Id, "without-1");
        Assert.Equal(result.Index, net[net.Leader()!.Id].Committed);
    }

    [Fact]
    public void ConfChange_round_trips_and_refuses_garbage()
    {
        var change = new ConfChange(ConfChangeTransition.JointExplicit, [new(ConfChangeType.AddLearner, 7), new(ConfChangeType.RemoveNode, ulong.MaxValue)]);
        var back = ConfChange.Decode(change.Encode());
        Assert.Equal(change.Transition, back.Transition);
        Assert.Equal(change.Changes, back.Changes);
        Assert.Throws<FormatException>(() => ConfChange.Decode([1]));
        Assert.Throws<FormatException>(() => ConfChange.Decode([9, 0]));
        Assert.Throws<FormatException>(() => ConfChange.Decode([0, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0]));
    }

    [Fact]
    public void Recently_acked_counts_round_trips_at_any_tick_and_not_a_peer_that_cannot_hear()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Stabilize();
        net.TickAll(2);

        // Live peers count right after every tick of the leader (where the driver asks), including
        // the ticks on which check-quorum has just cleared RecentActive.
        for (var i = 0; i < 25; i++)
        {
            net.Tick(1);
            Assert.Equal([1UL, 2, 3], net[1].RecentlyAcked().Order().ToArray());
            net.Stabilize();
        }

        // Node 2 still speaks to the leader but no longer hears it: it drops out within an election timeout.
        net.CutOneWay(1, 2);
        net.TickAll(11);
        Assert.Equal([1UL, 3], net[1].RecentlyAcked().Order().ToArray());
        Assert.Empty(net[2].RecentlyAcked());

        net.Heal();
        net.TickAll(2);
        Assert.Equal([1UL, 2, 3], net[1].RecentlyAcked().Order().ToArray());
    }
}
