using CsCheck;
using Shortener.Core.Links;
using Shortener.Core.Tests.Links;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests;

public class SqliteLinkTablePropertyTests
{
    /// <summary>The SQLite store is a faithful home for the state machine: same results and state as the in-memory model, also across a reopen.</summary>
    [Fact]
    public void Sqlite_store_matches_the_in_memory_model() =>
        LinkCommandGen.Sequences.Sample(
            sequence =>
            {
                using var dir = new TempDirectory();
                var model = new InMemoryLinkTable();
                var path = dir.File("links.db");
                var half = sequence.Length / 2;
                using (var store = SqliteLinkStore.Open(path))
                {
                    foreach (var envelope in sequence[..half])
                    {
                        AssertSameResult(LinkStateMachine.Apply(model, envelope), store.Apply(envelope));
                    }
                }

                using (var store = SqliteLinkStore.Open(path))
                {
                    // The second half as one group-committed batch.
                    var results = store.ApplyBatch(sequence[half..]);
                    for (var i = 0; i < results.Count; i++)
                    {
                        AssertSameResult(LinkStateMachine.Apply(model, sequence[half + i]), results[i].Result!);
                    }

                    foreach (var (code, link) in model.Links)
                    {
                        Assert.True(link.SameAs(store.Get(code)), $"{code}: {link} vs {store.Get(code)}");
                    }

                    var live = model.Links.Values.Where(l => !l.Deleted).OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.Code, StringComparer.Ordinal).Select(l => l.Code);
                    Assert.Equal(live, store.List(1000, null, null).Links.Select(l => l.Code));
                    var red = model.Links.Values.Where(l => !l.Deleted && l.Tags.Contains("red")).OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.Code, StringComparer.Ordinal).Select(l => l.Code);
                    Assert.Equal(red, store.List(1000, null, "red").Links.Select(l => l.Code));
                }
            },
            iter: 60);

    private static void AssertSameResult(CommandResult expected, CommandResult actual)
    {
        Assert.Equal(expected.Outcome, actual.Outcome);
        Assert.Equal(expected.Replayed, actual.Replayed);
        Assert.Equal(expected.Block, actual.Block);
        Assert.True(expected.Link is null ? actual.Link is null : expected.Link.SameAs(actual.Link), $"{expected.Link} vs {actual.Link}");
    }
}
