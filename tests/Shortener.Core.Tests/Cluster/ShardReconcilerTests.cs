using Shortener.Core;
using Shortener.Core.Cluster;
using Shortener.Core.Raft;

namespace Shortener.Core.Tests.Cluster;

public class ShardReconcilerTests
{
    private const ulong Last = 1000;

    private static ConfState Conf(ulong[] voters, params ulong[] learners) => new(voters, learners, [], [], false);

    private static ShardReplicas Target(ulong[] voters, params ulong[] learners) => new(0, voters, learners);

    private static Dictionary<ulong, ulong> AllAt(ulong index, params ulong[] ids) => ids.ToDictionary(id => id, _ => index);

    private static ReconcileStep Next(ConfState conf, ShardReplicas target, ulong self = 1, Dictionary<ulong, ulong>? match = null, ulong[]? active = null, ulong last = Last) =>
        ShardReconciler.Next(conf, target, self, match ?? AllAt(last, 1, 2, 3, 4, 5), (active ?? [1, 2, 3, 4, 5]).ToHashSet(), last, maxLag: 100);

    [Fact]
    public void Nothing_to_do_when_the_configuration_is_the_placement()
    {
        Assert.True(Next(Conf([1, 2, 3], 4), Target([1, 2, 3], 4)).IsNone);
    }

    [Fact]
    public void A_new_member_joins_as_a_learner_first()
    {
        var step = Next(Conf([1, 2, 3]), Target([2, 3, 4], 1));
        Assert.Equal(ConfChange.Single(ConfChangeType.AddLearner, 4).Encode(), step.ConfChange!.Encode());
    }

    [Fact]
    public void A_caught_up_learner_is_promoted_in_one_joint_change_that_demotes_the_voter_it_replaces()
    {
        var step = Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 2);
        var change = step.ConfChange!;
        Assert.True(change.EntersJoint().Joint);
        Assert.Equal([new ConfChangeSingle(ConfChangeType.AddNode, 4), new ConfChangeSingle(ConfChangeType.AddLearner, 1)], change.Changes);
    }

    [Fact]
    public void A_lagging_learner_is_not_promoted()
    {
        var match = AllAt(Last, 1, 2, 3);
        match[4] = Last - 101;
        Assert.True(Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 2, match).IsNone);
        match[4] = Last - 100;
        Assert.NotNull(Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 2, match).ConfChange);
    }

    [Fact]
    public void A_learner_that_never_answered_is_not_promoted_even_in_a_short_log()
    {
        // A new progress starts at match 0 and counts as active: neither says it has the data.
        var match = AllAt(50, 1, 2, 3);
        match[4] = 0;
        Assert.True(Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 2, match, last: 50).IsNone);
        Assert.True(Next(Conf([1], 2), Target([1, 2]), self: 1, new Dictionary<ulong, ulong> { [1] = 3, [2] = 0 }, last: 3).IsNone);
    }

    [Fact]
    public void A_learner_not_heard_from_recently_is_not_promoted()
    {
        Assert.True(Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 2, active: [1, 2, 3]).IsNone);
    }

    [Fact]
    public void No_voter_leaves_when_the_rest_would_need_a_dead_one()
    {
        // Node 2 is down; dropping live node 3 from {1,2,3} would leave {1,2}, which needs node 2.
        Assert.True(Next(Conf([1, 2, 3]), Target([1, 2]), self: 1, active: [1, 3]).IsNone);

        // A dead voter that is to go goes first, and that keeps a quorum of live ones.
        var step = Next(Conf([1, 2, 3, 4]), Target([1, 3, 4]), self: 1, active: [1, 3, 4]);
        Assert.Equal([new ConfChangeSingle(ConfChangeType.RemoveNode, 2)], step.ConfChange!.Changes);
        var replaced = Next(Conf([1, 2, 3], 4), Target([1, 3, 4]), self: 1, active: [1, 3, 4]);
        Assert.Equal(new ConfChangeSingle(ConfChangeType.RemoveNode, 2), replaced.ConfChange!.Changes[1]);
    }

    [Fact]
    public void Of_two_voters_to_go_the_dead_one_goes_first()
    {
        var step = Next(Conf([1, 2, 3, 4]), Target([1, 2]), self: 1, active: [1, 2, 3]);
        Assert.Equal([new ConfChangeSingle(ConfChangeType.RemoveNode, 4)], step.ConfChange!.Changes);
    }

    [Fact]
    public void A_replacement_that_would_leave_too_few_live_voters_waits()
    {
        // Five voters of which only the leader answers: promoting live 6 for dead 5 still leaves
        // two live voters of five.
        Assert.True(Next(Conf([1, 2, 3, 4, 5], 6), Target([1, 2, 3, 4, 6]), self: 1, match: AllAt(Last, 1, 2, 3, 4, 5, 6), active: [1, 6]).IsNone);
        Assert.NotNull(Next(Conf([1, 2, 3, 4, 5], 6), Target([1, 2, 3, 4, 6]), self: 1, match: AllAt(Last, 1, 2, 3, 4, 5, 6), active: [1, 2, 6]).ConfChange);
    }

    [Fact]
    public void A_voter_that_left_the_cluster_is_removed_when_its_replacement_is_promoted()
    {
        var step = Next(Conf([1, 2, 3], 4), Target([2, 3, 4]), self: 2);
        Assert.Equal([new ConfChangeSingle(ConfChangeType.AddNode, 4), new ConfChangeSingle(ConfChangeType.RemoveNode, 1)], step.ConfChange!.Changes);
    }

    [Fact]
    public void The_leader_hands_over_rather_than_demote_itself()
    {
        var step = Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 1);
        Assert.Null(step.ConfChange);
        Assert.Equal(2UL, step.TransferTo);
    }

    [Fact]
    public void The_leader_prefers_to_displace_another_voter_when_there_is_one()
    {
        var step = Next(Conf([1, 2, 3], 4, 5), Target([1, 4, 5], 2, 3), self: 2);
        Assert.Equal(new ConfChangeSingle(ConfChangeType.AddLearner, 3), step.ConfChange!.Changes[1]);
    }

    [Fact]
    public void No_handover_to_a_voter_that_is_behind()
    {
        var match = AllAt(Last, 1, 2, 3, 4);
        match[2] = 0;
        match[3] = 0;
        Assert.True(Next(Conf([1, 2, 3], 4), Target([2, 3, 4], 1), self: 1, match).IsNone);
    }

    [Fact]
    public void A_growing_cluster_adds_voters_one_at_a_time_without_displacing_anyone()
    {
        var step = Next(Conf([1], 2, 3), Target([1, 2, 3]));
        Assert.Equal(ConfChange.Single(ConfChangeType.AddNode, 2).Encode(), step.ConfChange!.Encode());
        Assert.False(step.ConfChange.EntersJoint().Joint);
    }

    [Fact]
    public void A_shrinking_cluster_drops_the_extra_voter_on_its_own()
    {
        var step = Next(Conf([1, 2, 3]), Target([1, 2]));
        Assert.Equal([new ConfChangeSingle(ConfChangeType.RemoveNode, 3)], step.ConfChange!.Changes);
        Assert.False(step.ConfChange.EntersJoint().Joint);
    }

    [Fact]
    public void A_learner_that_left_the_cluster_is_removed()
    {
        var step = Next(Conf([1, 2, 3], 4, 5), Target([1, 2, 3], 5));
        Assert.Equal(ConfChange.Single(ConfChangeType.RemoveNode, 4).Encode(), step.ConfChange!.Encode());
    }

    [Fact]
    public void Waits_while_the_configuration_is_joint()
    {
        var joint = new ConfState([2, 3, 4], [], [1, 2, 3], [1], true);
        Assert.True(Next(joint, Target([2, 3, 4], 1), self: 2).IsNone);
    }

    /// <summary>Whatever the starting configuration, following the steps (applied as the engine would) reaches the placement.</summary>
    [Theory]
    [InlineData(1, 3)]
    [InlineData(3, 4)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    [InlineData(3, 5)]
    public void Following_the_steps_reaches_every_shards_placement(int before, int after)
    {
        static ClusterMember[] Members(IEnumerable<int> ids) => ids.Select(i => new ClusterMember((ulong)i, $"dc{(i % 3) + 1}", $"http://p{i}", $"http://h{i}")).ToArray();

        // Shrinking removes the lowest ids; growing adds new ones.
        var from = ShardPlacement.Place(Members(Enumerable.Range(1, before)), 16, 3);
        var to = ShardPlacement.Place(Members(after >= before ? Enumerable.Range(1, after) : Enumerable.Range(1 + before - after, after)), 16, 3);
        for (var shard = 0; shard < 16; shard++)
        {
            var conf = new ConfState(from[shard].Voters, from[shard].Learners, [], [], false);
            var leader = from[shard].Voters[0];
            for (var steps = 0; ; steps++)
            {
                Assert.True(steps < 20, $"shard {shard} did not converge: {conf}");
                var everyone = Enumerable.Range(1, Math.Max(before, after) + 5).Select(i => (ulong)i).ToArray();
                var step = ShardReconciler.Next(conf, to[shard], leader, AllAt(Last, everyone), everyone.ToHashSet(), Last, 100);
                if (step.IsNone)
                {
                    break;
                }

                if (step.TransferTo != 0)
                {
                    Assert.Contains(step.TransferTo, conf.Voters);
                    leader = step.TransferTo;
                    continue;
                }

                Assert.Contains(leader, conf.Voters);
                conf = ApplyAndLeave(conf, step.ConfChange!);
                Assert.True(conf.Voters.Count >= Math.Min(from[shard].Voters.Count, to[shard].Voters.Count), $"shard {shard} lost voters: {conf}");
            }

            Assert.Equal(to[shard].Voters.Order(), conf.Voters.Order());
            Assert.Equal(to[shard].Learners.Order(), conf.Learners.Order());
        }
    }

    private static ConfState ApplyAndLeave(ConfState conf, ConfChange change)
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(1, 1, conf), []));
        var node = new RaftNode(new RaftConfig { Id = conf.Voters[0], Random = new SeededRandom(1) }, storage);
        var after = node.ApplyConfChange(change);
        return after.IsJoint ? node.ApplyConfChange(ConfChange.LeaveJoint) : after;
    }
}
