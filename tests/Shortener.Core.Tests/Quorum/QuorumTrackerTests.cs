using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Quorum;

public class QuorumTrackerTests
{
    private static readonly (ulong, string)[] Owners = [(1, "dc1"), (2, "dc2"), (3, "dc3")];
    private static readonly ReplicaTarget[] ThreeDcs = [new(1, 1, "dc1", "dc1"), new(2, 2, "dc2", "dc2"), new(3, 3, "dc3", "dc3")];

    [Theory]
    [InlineData(ConsistencyLevel.One, 1)]
    [InlineData(ConsistencyLevel.Quorum, 2)]
    [InlineData(ConsistencyLevel.All, 3)]
    public void Each_level_succeeds_at_its_number_of_acks(ConsistencyLevel level, int required)
    {
        var tracker = new QuorumTracker(level, Owners, ThreeDcs, "dc1");
        Assert.Equal(required, tracker.Required);
        for (ulong node = 1; node <= 3; node++)
        {
            Assert.Equal(node > (ulong)required ? QuorumOutcome.Succeeded : QuorumOutcome.Pending, tracker.Outcome);
            tracker.Ack(node);
            tracker.Ack(node); // a duplicate answer counts once
        }

        Assert.Equal(QuorumOutcome.Succeeded, tracker.Outcome);
    }

    [Fact]
    public void A_level_fails_as_soon_as_too_many_replicas_failed()
    {
        var quorum = new QuorumTracker(ConsistencyLevel.Quorum, Owners, ThreeDcs, "dc1");
        quorum.Fail(2);
        Assert.Equal(QuorumOutcome.Pending, quorum.Outcome);
        quorum.Fail(3);
        Assert.Equal(QuorumOutcome.Failed, quorum.Outcome);
        quorum.Ack(1); // too late to matter
        Assert.Equal(QuorumOutcome.Failed, quorum.Outcome);

        var all = new QuorumTracker(ConsistencyLevel.All, Owners, ThreeDcs[..2], "dc1");
        Assert.Equal(QuorumOutcome.Failed, all.Outcome); // a replica had no target at all
    }

    [Fact]
    public void Local_quorum_counts_only_copies_held_in_the_coordinators_data_centre()
    {
        (ulong, string)[] owners = [(1, "dc1"), (4, "dc1"), (5, "dc1"), (2, "dc2")];
        // 5 is down: node 7 of dc1 stands in for it; node 8 of dc2 would not count locally.
        ReplicaTarget[] targets = [new(1, 1, "dc1", "dc1"), new(4, 4, "dc1", "dc1"), new(2, 2, "dc2", "dc2"), new(7, 5, "dc1", "dc1")];
        var local = new QuorumTracker(ConsistencyLevel.LocalQuorum, owners, targets, "dc1");
        Assert.Equal(2, local.Required);
        local.Ack(2);
        Assert.Equal(QuorumOutcome.Pending, local.Outcome);
        local.Ack(7);
        local.Ack(9); // not a target: ignored
        Assert.Equal(1, local.Acknowledged);
        local.Ack(1);
        Assert.Equal(QuorumOutcome.Succeeded, local.Outcome);

        ReplicaTarget[] remoteStandIn = [new(1, 1, "dc1", "dc1"), new(2, 2, "dc2", "dc2"), new(8, 4, "dc1", "dc2")];
        var strict = new QuorumTracker(ConsistencyLevel.LocalQuorum, owners, remoteStandIn, "dc1");
        strict.Ack(1);
        strict.Ack(8);
        Assert.Equal(QuorumOutcome.Failed, strict.Outcome);
    }

    [Fact]
    public void Owners_down_without_a_stand_in_make_a_level_harder_never_easier()
    {
        // Three owners in dc1, two of them down and nobody to stand in: one copy goes out.
        (ulong, string)[] owners = [(1, "dc1"), (2, "dc1"), (3, "dc1")];
        ReplicaTarget[] targets = [new(1, 1, "dc1", "dc1")];
        foreach (var level in new[] { ConsistencyLevel.Quorum, ConsistencyLevel.LocalQuorum })
        {
            var tracker = new QuorumTracker(level, owners, targets, "dc1");
            Assert.Equal(2, tracker.Required);
            Assert.Equal(QuorumOutcome.Failed, tracker.Outcome);
        }
    }
}
