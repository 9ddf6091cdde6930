using Shortener.Core.Quorum;

namespace Shortener.Core.Tests.Quorum;

public class QuorumTrackerTests
{
    private static readonly ReplicaTarget[] ThreeDcs = [new(1, 1, "dc1"), new(2, 2, "dc2"), new(3, 3, "dc3")];

    [Theory]
    [InlineData(ConsistencyLevel.One, 1)]
    [InlineData(ConsistencyLevel.Quorum, 2)]
    [InlineData(ConsistencyLevel.All, 3)]
    public void Each_level_succeeds_at_its_number_of_acks(ConsistencyLevel level, int required)
    {
        var tracker = new QuorumTracker(level, 3, ThreeDcs, "dc1");
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
        var quorum = new QuorumTracker(ConsistencyLevel.Quorum, 3, ThreeDcs, "dc1");
        quorum.Fail(2);
        Assert.Equal(QuorumOutcome.Pending, quorum.Outcome);
        quorum.Fail(3);
        Assert.Equal(QuorumOutcome.Failed, quorum.Outcome);
        quorum.Ack(1); // too late to matter
        Assert.Equal(QuorumOutcome.Failed, quorum.Outcome);

        var all = new QuorumTracker(ConsistencyLevel.All, 3, ThreeDcs[..2], "dc1");
        Assert.Equal(QuorumOutcome.Failed, all.Outcome); // a replica had no target at all
    }

    [Fact]
    public void Local_quorum_counts_only_the_coordinators_data_centre_and_stand_ins_count_for_their_owner()
    {
        ReplicaTarget[] targets = [new(1, 1, "dc1"), new(4, 4, "dc1"), new(2, 2, "dc2"), new(7, 5, "dc1")];
        var local = new QuorumTracker(ConsistencyLevel.LocalQuorum, 4, targets, "dc1");
        Assert.Equal(2, local.Required);
        local.Ack(2);
        Assert.Equal(QuorumOutcome.Pending, local.Outcome);
        local.Ack(7); // stands in for node 5 of dc1
        local.Ack(9); // not a target: ignored
        Assert.Equal(1, local.Acknowledged);
        local.Ack(1);
        Assert.Equal(QuorumOutcome.Succeeded, local.Outcome);
    }
}
