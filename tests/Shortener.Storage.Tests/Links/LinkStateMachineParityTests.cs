using CsCheck;
using Shortener.Core.Changes;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Core.Tests.Links;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests.Links;

/// <summary>
/// The simulator runs the replica driver over the in-memory link state machine; production over
/// the SQLite one. They must answer alike: the same batches, with re-proposed duplicates among
/// them, give the same results and the same state.
/// </summary>
public class LinkStateMachineParityTests
{
    [Fact]
    public void The_in_memory_state_machine_answers_as_the_sqlite_one_does() =>
        Gen.Select(LinkCommandGen.Sequences, Gen.Int[1, 6].Array[20], Gen.Int[0, 5].Array[20]).Sample(
            (sequence, batchSizes, duplicateRolls) =>
            {
                using var dir = new TempDirectory();
                using var sqlite = SqliteLinkStateMachine.Open(dir.File("links.db"));
                var memory = new InMemoryLinkStateMachine();
                var commands = new List<ProposedCommand>();
                for (var i = 0; i < sequence.Length; i++)
                {
                    var payload = LinkCommandCodec.Encode(sequence[i]);
                    commands.Add(new ProposedCommand(new ProposalId(7, (ulong)i + 1), (ulong)commands.Count + 1, 1, payload));

                    // Now and then a re-proposal: an earlier command's bytes under its id, later in the log.
                    var roll = duplicateRolls[i % duplicateRolls.Length];
                    if (roll == 0)
                    {
                        var earlier = commands[i * 7 % commands.Count];
                        commands.Add(earlier with { Index = (ulong)commands.Count + 1 });
                    }
                }

                var at = 0;
                for (var b = 0; at < commands.Count; b++)
                {
                    var batch = commands.Skip(at).Take(batchSizes[b % batchSizes.Length]).ToList();
                    at += batch.Count;
                    var through = batch[^1].Index + 1;
                    var expected = sqlite.Apply(batch, through);
                    var actual = memory.Apply(batch, through);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        AssertSame(expected[i], actual[i]);
                    }

                    Assert.Equal(sqlite.AppliedIndex, memory.AppliedIndex);
                }

                {
                    var links = sqlite.Links;
                    foreach (var (code, link) in memory.Table.Links)
                    {
                        Assert.True(link.SameAs(links.Get(code)), $"{code}: {link} vs {links.Get(code)}");
                    }

                    foreach (var ((scope, key), record) in memory.Table.Idempotency)
                    {
                        var stored = links.FindIdempotency(scope, key);
                        Assert.NotNull(stored);
                        Assert.Equal(record.RequestHash, stored.RequestHash);
                        Assert.Equal(record.Result.Outcome, stored.Result.Outcome);
                    }
                }

                // The change feed agrees: the same changes at the same offsets.
                var kept = sqlite.Links.Changes(null, 100_000).Changes;
                Assert.Equal(memory.Table.Changes.Select(c => (c.Offset, c.Op, c.Term, c.AtMs)), kept.Select(c => (c.Offset, c.Op, c.Term, c.AtMs)));
                foreach (var (mine, theirs) in memory.Table.Changes.Zip(kept))
                {
                    Assert.True(mine.Before is null ? theirs.Before is null : mine.Before.SameAs(theirs.Before));
                    Assert.True(mine.After is null ? theirs.After is null : mine.After.SameAs(theirs.After));
                }

                // The sequences agree too: the next lease starts at the same number.
                var next = new ProposedCommand(new ProposalId(8, 1), sqlite.AppliedIndex + 1, 1, Encode(new LeaseCodeBlock(1, 1)));
                Assert.Equal(sqlite.Apply([next], next.Index)[0].Result!.Block, memory.Apply([next], next.Index)[0].Result!.Block);
            },
            iter: 40);

    [Fact]
    public void Changes_are_kept_per_entry_position_and_purged_alike_as_a_prefix()
    {
        using var dir = new TempDirectory();
        using var sqlite = SqliteLinkStateMachine.Open(dir.File("links.db"));
        var memory = new InMemoryLinkStateMachine();
        ProposedCommand Entry(ulong sequence, ulong index, LinkCommand command) => new(new ProposalId(1, sequence), index, 3, Encode(command));

        // Two creates in one entry (positions 0 and 1), a refused create, a change, a delete, a visit.
        List<ProposedCommand> batch =
        [
            Entry(1, 2, new CreateLink(1_000, "one", "https://example.com/1", null, 5, 302, [], null)),
            Entry(2, 2, new CreateLink(1_001, "two", "https://example.com/2", null, null, 302, [], null)),
            Entry(3, 3, new CreateLink(1_002, "two", "https://example.com/again", null, null, 302, [], null)),
            Entry(4, 4, new UpdateLink(2_000, "one", new LinkPatch(Title: "t"))),
            Entry(5, 5, new RecordVisit(2_500, "one")),
            Entry(6, 6, new DeleteLink(3_000, "two")),
        ];
        sqlite.Apply(batch, 6);
        memory.Apply(batch, 6);
        var kept = sqlite.Links.Changes(null, 100).Changes;
        Assert.Equal(
            [("links-0-2-0", ChangeOperation.Create), ("links-0-2-1", ChangeOperation.Create), ("links-0-4-0", ChangeOperation.Update), ("links-0-6-0", ChangeOperation.Delete)],
            kept.Select(c => (c.Offset.Id, c.Op)));
        Assert.Equal(kept.Select(c => c.Offset), memory.Table.Changes.Select(c => c.Offset));
        Assert.Equal([new ChangeOffset(0, 4, 0), new ChangeOffset(0, 6, 0)], sqlite.Links.Changes(new ChangeOffset(0, 2, 1), 100).Changes.Select(c => c.Offset));
        Assert.Null(sqlite.Links.Changes(null, 1).PurgedThrough);

        // A day and a bit later the purge forgets them all, as a prefix, on both.
        var purge = Entry(7, 7, new PurgeIdempotency(3_000 + ChangeRetention.KeepMs + 1));
        sqlite.Apply([purge], 7);
        memory.Apply([purge], 7);
        Assert.Empty(sqlite.Links.Changes(null, 100).Changes);
        Assert.Empty(memory.Table.Changes);
        Assert.Equal(new ChangeOffset(0, 6, 0), sqlite.Links.Changes(null, 100).PurgedThrough);
        Assert.Equal(new ChangeOffset(0, 6, 0), memory.Table.ChangesPurgedThrough);
    }

    [Fact]
    public void A_snapshot_of_the_in_memory_state_machine_restores_the_same_state_and_duplicates_stay_known()
    {
        var memory = new InMemoryLinkStateMachine();
        var create = new ProposedCommand(new ProposalId(1, 1), 2, 1, LinkCommandCodec.Encode(new LinkCommandEnvelope(new CreateLink(1_000, "abc", "https://example.com/", null, null, 302, ["t"], "x"), new IdempotencyToken("c", "k", "h"))));
        var lease = new ProposedCommand(new ProposalId(1, 2), 3, 1, Encode(new LeaseCodeBlock(1_000, 10)));
        memory.Apply([create, lease], 4);
        var captured = memory.PrepareSnapshot()();
        Assert.Equal(4UL, captured.Index);

        var restored = new InMemoryLinkStateMachine();
        restored.Restore(new RaftSnapshot(new SnapshotMetadata(captured.Index, 1, ConfState.Of(1)), captured.Data));
        Assert.Equal(4UL, restored.AppliedIndex);
        Assert.True(memory.Table.Links["abc"].SameAs(restored.Table.Links["abc"]));
        Assert.NotNull(restored.Table.FindIdempotency("c", "k"));

        // The lease proposed again after the snapshot is a duplicate: the sequence does not move twice.
        var again = restored.Apply([lease with { Index = 5 }], 5)[0];
        Assert.True(again.Duplicate);
        Assert.Equal(new CodeBlock(0, 10), again.Result!.Block);
    }

    [Fact]
    public void A_command_no_version_can_read_throws_instead_of_being_skipped()
    {
        var memory = new InMemoryLinkStateMachine();
        Assert.Throws<InvalidDataException>(() => memory.Apply([new ProposedCommand(new ProposalId(1, 1), 2, 1, "{\"nope\":"u8.ToArray())], 2));
        Assert.Equal(0UL, memory.AppliedIndex);
    }

    private static byte[] Encode(LinkCommand command) => LinkCommandCodec.Encode(new LinkCommandEnvelope(command));

    private static void AssertSame(BatchItemResult expected, BatchItemResult actual)
    {
        Assert.Equal(expected.Duplicate, actual.Duplicate);
        Assert.Equal(expected.Error is null, actual.Error is null);
        if (expected.Result is null || actual.Result is null)
        {
            Assert.Equal(expected.Result is null, actual.Result is null);
            return;
        }

        Assert.Equal(expected.Result.Outcome, actual.Result.Outcome);
        Assert.Equal(expected.Result.Replayed, actual.Result.Replayed);
        Assert.Equal(expected.Result.Block, actual.Result.Block);
        Assert.True(expected.Result.Link is null ? actual.Result.Link is null : expected.Result.Link.SameAs(actual.Result.Link), $"{expected.Result.Link} vs {actual.Result.Link}");
    }
}
