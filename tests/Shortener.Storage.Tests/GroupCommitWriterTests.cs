using Shortener.Core.Links;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests;

public sealed class GroupCommitWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Concurrent_commands_all_commit_and_share_flushes()
    {
        using var store = SqliteLinkStore.Open(_dir.File("links.db"));
        var batches = new List<int>();
        var order = new List<string>();
        await using (var writer = new GroupCommitWriter(store, (envelopes, _) =>
        {
            batches.Add(envelopes.Count);
            order.AddRange(envelopes.Select(e => ((CreateLink)e.Command).Code));
        }))
        {
            var tasks = Enumerable.Range(0, 500)
                .Select(i => Task.Run(() => writer.SubmitAsync(new LinkCommandEnvelope(SqliteLinkStoreTests.Create($"code{i}")))))
                .ToList();
            var results = await Task.WhenAll(tasks);
            Assert.All(results, r => Assert.Equal(CommandOutcome.Created, r.Outcome));
        }

        Assert.Equal(500, batches.Sum());
        Assert.True(batches.Count < 500, "no two commands ever shared a commit");
        Assert.Equal(500, order.Distinct().Count());
        Assert.Equal(500, store.List(1000, null, null).Links.Count);
    }

    [Fact]
    public async Task The_commit_hook_sees_results_before_callers_do()
    {
        using var store = SqliteLinkStore.Open(_dir.File("links.db"));
        var hooked = new HashSet<string>();
        await using var writer = new GroupCommitWriter(store, (_, results) =>
        {
            lock (hooked)
            {
                foreach (var r in results)
                {
                    hooked.Add(r.Result!.Link!.Code);
                }
            }
        });

        var result = await writer.SubmitAsync(new LinkCommandEnvelope(SqliteLinkStoreTests.Create("abc")));
        lock (hooked)
        {
            Assert.Contains(result.Link!.Code, hooked);
        }
    }

    [Fact]
    public async Task Submitting_after_dispose_fails()
    {
        using var store = SqliteLinkStore.Open(_dir.File("links.db"));
        var writer = new GroupCommitWriter(store);
        await writer.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.SubmitAsync(new LinkCommandEnvelope(SqliteLinkStoreTests.Create("abc"))));
    }
}
