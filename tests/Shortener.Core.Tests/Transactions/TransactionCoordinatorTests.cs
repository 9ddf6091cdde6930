using Shortener.Core.Transactions;

namespace Shortener.Core.Tests.Transactions;

public sealed class TransactionCoordinatorTests
{
    private static TransactionCoordinator Begun(out TransactionRecord record)
    {
        var coordinator = new TransactionCoordinator("t1", [3, 7], deadlineMs: 1_000);
        var begin = Assert.IsType<CoordinatorStep.Begin>(Assert.Single(coordinator.Start()));
        record = begin.Record;
        Assert.Equal(TransactionState.Pending, record.State);
        var prepares = coordinator.RecordWritten(true, record);
        Assert.Equal([3, 7], prepares.Cast<CoordinatorStep.Prepare>().Select(p => p.Participant));
        Assert.Equal(CoordinatorPhase.Preparing, coordinator.Phase);
        return coordinator;
    }

    [Fact]
    public void Every_participant_prepared_commits_through_the_record_then_resolves_each()
    {
        var coordinator = Begun(out var record);
        Assert.Empty(coordinator.Prepared(3, yes: true));
        Assert.Empty(coordinator.Prepared(3, yes: true));
        var decide = Assert.IsType<CoordinatorStep.Decide>(Assert.Single(coordinator.Prepared(7, yes: true)));
        Assert.Equal(TransactionState.Committed, decide.Decision);

        var resolves = coordinator.RecordWritten(true, record with { State = TransactionState.Committed });
        Assert.Equal([(3, TransactionState.Committed), (7, TransactionState.Committed)], resolves.Cast<CoordinatorStep.Resolve>().Select(r => (r.Participant, r.Decision)));
        Assert.Equal(TransactionState.Committed, coordinator.Outcome);
        coordinator.Resolved(3);
        Assert.Equal(CoordinatorPhase.Resolving, coordinator.Phase);
        coordinator.Resolved(7);
        Assert.Equal(CoordinatorPhase.Done, coordinator.Phase);
    }

    [Fact]
    public void One_no_or_the_deadline_aborts_and_late_answers_change_nothing()
    {
        var refused = Begun(out _);
        Assert.Equal(TransactionState.Aborted, Assert.IsType<CoordinatorStep.Decide>(Assert.Single(refused.Prepared(7, yes: false))).Decision);
        Assert.Empty(refused.Prepared(3, yes: true));

        var slow = Begun(out _);
        slow.Prepared(3, yes: true);
        Assert.Empty(slow.Tick(999));
        Assert.Equal(TransactionState.Aborted, Assert.IsType<CoordinatorStep.Decide>(Assert.Single(slow.Tick(1_000))).Decision);
        Assert.Empty(slow.Prepared(7, yes: true));
        Assert.Empty(slow.Prepared(99, yes: true));
    }

    [Fact]
    public void A_record_a_recovery_decided_first_is_followed_not_overruled()
    {
        var coordinator = Begun(out var record);
        coordinator.Prepared(3, yes: true);
        coordinator.Prepared(7, yes: true);

        // Its commit lost the race: the record says aborted, and so do the resolves.
        var resolves = coordinator.RecordWritten(false, record with { State = TransactionState.Aborted });
        Assert.All(resolves.Cast<CoordinatorStep.Resolve>(), r => Assert.Equal(TransactionState.Aborted, r.Decision));
        Assert.Equal(TransactionState.Aborted, coordinator.Outcome);
    }

    [Fact]
    public void A_begin_the_record_refuses_ends_the_transaction_without_preparing_anyone()
    {
        var coordinator = new TransactionCoordinator("t1", [1], deadlineMs: 10);
        coordinator.Start();
        var tombstone = TransactionRules.Decide(null, "t1", TransactionState.Aborted).Record;
        Assert.Empty(coordinator.RecordWritten(false, tombstone));
        Assert.Equal((CoordinatorPhase.Done, TransactionState.Aborted), (coordinator.Phase, coordinator.Outcome));
        Assert.Throws<ArgumentException>(() => new TransactionCoordinator("t2", [1, 1], 10));
    }
}
