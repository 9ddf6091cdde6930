using Shortener.Core.Changes;
using Shortener.Core.Links;
using Shortener.Core.Transactions;

namespace Shortener.Core.Tests.Transactions;

/// <summary>A participant shard's intents: all or none prepared, the code locked meanwhile, resolved once.</summary>
public sealed class IntentTests
{
    private readonly InMemoryLinkTable _table = new();

    private CommandResult Apply(LinkCommand command) => LinkStateMachine.Apply(_table, command, logIndex: 9);

    private static CreateLink Create(string code, long at = 10) => new(at, code, "https://example.com/" + code, null, null, 302, [], null);

    [Fact]
    public void A_prepared_write_locks_its_code_until_resolved_and_commit_makes_it()
    {
        Apply(Create("old"));
        Assert.Equal(CommandOutcome.Ok, Apply(new PrepareIntents(20, "t1", 0, 5_000, [Create("new", 20), new DeleteLink(20, "old")])).Outcome);

        // Locked: other writes are refused with the transaction's id; the committed link still reads and counts visits.
        var refused = Apply(new UpdateLink(21, "old", new LinkPatch(Url: "https://example.org")));
        Assert.Equal((CommandOutcome.Conflict, "t1"), (refused.Outcome, refused.LockedBy));
        Assert.Equal("t1", Apply(Create("new", 21)).LockedBy);
        Assert.Null(_table.Find("new"));
        Assert.False(_table.Find("old")!.Deleted);
        Assert.Equal(CommandOutcome.Ok, Apply(new RecordVisit(22, "old")).Outcome);

        var created = Apply(new ResolveIntent(30, "new", "t1", TransactionState.Committed));
        Assert.Equal(CommandOutcome.Created, created.Outcome);
        Assert.IsType<CreateLink>(created.Resolved);
        Assert.Equal("https://example.com/new", _table.Find("new")!.Url);
        Assert.Equal(CommandOutcome.Ok, Apply(new ResolveIntent(30, "old", "t1", TransactionState.Committed)).Outcome);
        Assert.True(_table.Find("old")!.Deleted);

        // Resolved: nothing is held any more, and resolving again changes nothing.
        Assert.Null(_table.FindDocument(Intent.IndexKeyOf("t1")));
        Assert.Null(_table.FindDocument(Intent.KeyOf("new")));
        var again = Apply(new ResolveIntent(31, "new", "t1", TransactionState.Committed));
        Assert.Equal((CommandOutcome.Ok, null), (again.Outcome, again.Resolved));
        Assert.Equal(CommandOutcome.Ok, Apply(new UpdateLink(32, "new", new LinkPatch(Title: "free"))).Outcome);
    }

    [Fact]
    public void An_abort_drops_the_intents_and_unlocks_the_codes()
    {
        Apply(new PrepareIntents(20, "t1", 0, 5_000, [Create("new", 20)]));
        var dropped = Apply(new ResolveIntent(30, "new", "t1", TransactionState.Aborted));
        Assert.Equal((CommandOutcome.Ok, null), (dropped.Outcome, dropped.Resolved));
        Assert.Null(_table.Find("new"));
        Assert.Equal(CommandOutcome.Created, Apply(Create("new", 31)).Outcome);
    }

    [Fact]
    public void A_prepare_that_cannot_make_every_write_holds_none_and_says_why()
    {
        Apply(Create("taken"));
        var conflict = Apply(new PrepareIntents(20, "t1", 0, 5_000, [Create("free", 20), Create("taken", 20)]));
        Assert.Equal(CommandOutcome.Conflict, conflict.Outcome);
        Assert.Null(_table.FindDocument(Intent.KeyOf("free")));
        Assert.Equal(CommandResult.NotFound, Apply(new PrepareIntents(21, "t2", 0, 5_000, [new UpdateLink(21, "missing", new LinkPatch(Title: "x"))])));

        // Another transaction's intent: refused at once, with its id (no waiting, so no deadlock).
        Apply(new PrepareIntents(22, "t3", 0, 5_000, [Create("free", 22)]));
        var locked = Apply(new PrepareIntents(23, "t4", 0, 5_000, [Create("free", 23)]));
        Assert.Equal((CommandOutcome.Conflict, "t3"), (locked.Outcome, locked.LockedBy));

        // The same transaction prepared again (a re-proposal) is Ok; writes that are not link writes, or twice one code, are a proposer's bug.
        Assert.Equal(CommandOutcome.Ok, Apply(new PrepareIntents(24, "t3", 0, 5_000, [Create("free", 24)])).Outcome);
        Assert.Throws<InvalidOperationException>(() => Apply(new PrepareIntents(25, "t5", 0, 5_000, [Create("a"), new DeleteLink(25, "a")])));
        Assert.Throws<InvalidOperationException>(() => Apply(new PrepareIntents(25, "t5", 0, 5_000, [new RecordVisit(25, "a")])));
    }

    [Fact]
    public void A_lock_refusal_is_not_remembered_under_the_callers_idempotency_key()
    {
        Apply(new PrepareIntents(20, "t1", 0, 5_000, [Create("new", 20)]));
        var key = new IdempotencyToken("client", "k1", "h");
        Assert.Equal("t1", LinkStateMachine.Apply(_table, new LinkCommandEnvelope(Create("new", 21), key)).LockedBy);
        Apply(new ResolveIntent(30, "new", "t1", TransactionState.Aborted));
        Assert.Equal(CommandOutcome.Created, LinkStateMachine.Apply(_table, new LinkCommandEnvelope(Create("new", 31), key)).Outcome);
    }

    [Fact]
    public void A_committed_intent_is_recorded_as_its_writes_change()
    {
        Apply(Create("old"));
        var before = _table.Find("old");
        var result = Apply(new PrepareIntents(20, "t1", 0, 5_000, [new UpdateLink(20, "old", new LinkPatch(Url: "https://example.org"))]));
        Assert.Equal(CommandOutcome.Ok, result.Outcome);
        var resolve = new ResolveIntent(30, "old", "t1", TransactionState.Committed);
        var applied = Apply(resolve);
        var change = LinkChanges.Of(resolve, before, applied, new ChangeOffset(0, 12, 0), term: 1);
        Assert.Equal(ChangeOperation.Update, change!.Op);
        Assert.Equal("https://example.org", change.After!.Url);
        Assert.Null(LinkChanges.Of(new ResolveIntent(31, "old", "t1", TransactionState.Aborted), before, new CommandResult(CommandOutcome.Ok), new ChangeOffset(0, 13, 0), term: 1));
    }
}
