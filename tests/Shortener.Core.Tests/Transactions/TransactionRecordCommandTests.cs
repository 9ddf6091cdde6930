using Shortener.Core.Links;
using Shortener.Core.Transactions;

namespace Shortener.Core.Tests.Transactions;

/// <summary>The coordinator shard's state machine keeps records by those rules, as shard documents.</summary>
public sealed class TransactionRecordCommandTests
{
    private readonly InMemoryLinkTable _table = new();

    private CommandResult Apply(LinkCommand command) => LinkStateMachine.Apply(_table, command, logIndex: 5);

    [Fact]
    public void A_record_is_begun_decided_once_and_kept_as_a_document_of_the_shard()
    {
        var begun = Apply(new BeginTransaction(1, "t1", [0, 3], 5_000));
        Assert.Equal(CommandOutcome.Ok, begun.Outcome);
        Assert.Equal(TransactionState.Pending, begun.Transaction!.State);
        Assert.Equal(CommandOutcome.Conflict, Apply(new BeginTransaction(2, "t1", [0], 9_000)).Outcome);

        Assert.Equal(CommandOutcome.Ok, Apply(new DecideTransaction(3, "t1", TransactionState.Committed)).Outcome);
        var version = _table.FindDocument(TransactionRecord.KeyOf("t1"))!.Value.Version;

        // The coordinator's retry is answered Ok and writes nothing; a recovery's abort after it is refused with the record.
        Assert.Equal(CommandOutcome.Ok, Apply(new DecideTransaction(4, "t1", TransactionState.Committed)).Outcome);
        Assert.Equal(version, _table.FindDocument(TransactionRecord.KeyOf("t1"))!.Value.Version);
        var late = Apply(new DecideTransaction(5, "t1", TransactionState.Aborted));
        Assert.Equal(CommandOutcome.Conflict, late.Outcome);
        Assert.Equal(TransactionState.Committed, late.Transaction!.State);

        var stored = TransactionRecord.Parse(_table.FindDocument(TransactionRecord.KeyOf("t1"))!.Value.Document);
        Assert.Equal(("t1", TransactionState.Committed, 5_000L), (stored.Id, stored.State, stored.DeadlineMs));
        Assert.Equal([0, 3], stored.Participants);
    }

    [Fact]
    public void A_recovery_that_finds_no_record_leaves_a_tombstone_that_a_late_begin_cannot_pass()
    {
        Assert.Equal(CommandOutcome.Conflict, Apply(new DecideTransaction(1, "t9", TransactionState.Committed)).Outcome);
        Assert.Null(_table.FindDocument(TransactionRecord.KeyOf("t9")));

        Assert.Equal(CommandOutcome.Ok, Apply(new DecideTransaction(2, "t9", TransactionState.Aborted)).Outcome);
        var begin = Apply(new BeginTransaction(3, "t9", [1], 9_000));
        Assert.Equal(CommandOutcome.Conflict, begin.Outcome);
        Assert.Equal(TransactionState.Aborted, begin.Transaction!.State);
    }
}
