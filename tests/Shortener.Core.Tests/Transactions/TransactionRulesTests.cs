using Shortener.Core.Transactions;

namespace Shortener.Core.Tests.Transactions;

public sealed class TransactionRulesTests
{
    private static TransactionRecord Pending(long deadline = 1_000) => TransactionRules.Begin(null, "t1", [1, 4], deadline).Record;

    [Fact]
    public void A_record_is_begun_once_and_its_id_is_never_reused()
    {
        var (begun, record) = TransactionRules.Begin(null, "t1", [1, 4], 1_000);
        Assert.True(begun);
        Assert.Equal(TransactionState.Pending, record.State);
        Assert.Equal([1, 4], record.Participants);

        var (again, kept) = TransactionRules.Begin(record, "t1", [2], 5_000);
        Assert.False(again);
        Assert.Same(record, kept);

        // A recovery's tombstone keeps a late begin out.
        var tombstone = TransactionRules.Decide(null, "t2", TransactionState.Aborted).Record;
        Assert.False(TransactionRules.Begin(tombstone, "t2", [1], 1_000).Begun);
        Assert.Throws<ArgumentException>(() => TransactionRules.Begin(null, "t3", [], 1_000));
    }

    [Fact]
    public void A_record_leaves_pending_once_and_the_first_decision_wins()
    {
        var (committed, record) = TransactionRules.Decide(Pending(), "t1", TransactionState.Committed);
        Assert.True(committed);
        Assert.Equal(TransactionState.Committed, record.State);

        // The coordinator's retry of its own decision succeeds; a recovery's abort after it is refused.
        Assert.True(TransactionRules.Decide(record, "t1", TransactionState.Committed).Decided);
        var (aborted, after) = TransactionRules.Decide(record, "t1", TransactionState.Aborted);
        Assert.False(aborted);
        Assert.Equal(TransactionState.Committed, after.State);

        // The other order: the recovery aborted first, and the coordinator learns it lost.
        var recovered = TransactionRules.Decide(Pending(), "t1", TransactionState.Aborted).Record;
        var (late, kept) = TransactionRules.Decide(recovered, "t1", TransactionState.Committed);
        Assert.False(late);
        Assert.Equal(TransactionState.Aborted, kept.State);
        Assert.Throws<ArgumentException>(() => TransactionRules.Decide(recovered, "t1", TransactionState.Pending));
    }

    [Fact]
    public void A_missing_record_can_only_be_aborted()
    {
        var (decided, tombstone) = TransactionRules.Decide(null, "t9", TransactionState.Aborted);
        Assert.True(decided);
        Assert.Equal(("t9", TransactionState.Aborted), (tombstone.Id, tombstone.State));
        Assert.False(TransactionRules.Decide(null, "t9", TransactionState.Committed).Decided);
    }

    [Fact]
    public void A_participant_waits_for_an_undecided_record_until_its_deadline_and_never_decides_alone()
    {
        Assert.Equal(IntentResolution.Wait, TransactionRules.Resolve(Pending(deadline: 1_000), atMs: 999));
        Assert.Equal(IntentResolution.Abort, TransactionRules.Resolve(Pending(deadline: 1_000), atMs: 1_000));
        Assert.Equal(IntentResolution.Abort, TransactionRules.Resolve(null, atMs: 0));
        Assert.Equal(IntentResolution.Apply, TransactionRules.Resolve(Pending() with { State = TransactionState.Committed }, atMs: 5_000));
        Assert.Equal(IntentResolution.Discard, TransactionRules.Resolve(Pending() with { State = TransactionState.Aborted }, atMs: 0));
    }
}
