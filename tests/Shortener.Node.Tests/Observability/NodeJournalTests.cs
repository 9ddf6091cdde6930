using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Shortener.Node.Observability;

namespace Shortener.Node.Tests.Observability;

public sealed class NodeJournalTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?>
    {
        ["Shortener:Cluster:RequestTimeoutMs"] = "1000",
    });

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void The_journal_keeps_the_newest_entries_within_its_bound_and_pages_by_sequence()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(50));
        var journal = new NodeJournal(time, new Shortener.Node.Clocks.NodeClock(time), node: 7, capacity: 4);
        for (var i = 1; i <= 6; i++)
        {
            journal.Record(JournalKind.FaultApplied, $"fault {i}", shard: i % 2, term: (ulong)i);
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(2, journal.Dropped);
        var all = journal.After(0, 100);
        Assert.Equal([3L, 4, 5, 6], all.Select(e => e.Seq));
        Assert.Equal("fault 3", all[0].Detail);
        Assert.Equal(7UL, all[0].Node);
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds() - 40, all[0].AtMs);
        Assert.Equal([5L, 6], journal.After(4, 100).Select(e => e.Seq));
        Assert.Equal([3L, 4], journal.After(0, 2).Select(e => e.Seq));
        Assert.Empty(journal.After(6, 100));
    }

    [Fact]
    public async Task A_node_journals_its_role_faults_and_refused_writes_and_serves_them()
    {
        // The node became leader of its shards at start.
        var start = await PageAsync(0);
        Assert.Contains(Entries(start), e => e.GetProperty("kind").GetString() == "roleChanged" && e.GetProperty("detail").GetString()!.StartsWith("leader", StringComparison.Ordinal) && e.GetProperty("term").GetUInt64() >= 1);
        var after = start.GetProperty("next").GetInt64();

        Assert.Equal(HttpStatusCode.OK, (await _node.Client.PostAsJsonAsync("/admin/v1/faults", new { action = "pause", scope = "node", forSeconds = 30 })).StatusCode);
        var refused = await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/refused" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _node.Client.DeleteAsync("/admin/v1/faults")).StatusCode);

        var page = await PageAsync(after);
        var kinds = Entries(page).Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["faultApplied", "writeRefused", "faultHealed"], kinds.Where(k => k != "roleChanged" && k != "clickRepair"));
        var applied = Entries(page).First(e => e.GetProperty("kind").GetString() == "faultApplied");
        Assert.Contains("pause", applied.GetProperty("detail").GetString());
        Assert.Contains("s left", applied.GetProperty("detail").GetString());
        var write = Entries(page).First(e => e.GetProperty("kind").GetString() == "writeRefused");
        Assert.StartsWith("POST /api/v1/links", write.GetProperty("detail").GetString());
        Assert.Equal(JsonValueKind.Number, write.GetProperty("shard").ValueKind);
        Assert.True(page.GetProperty("next").GetInt64() > after);
        Assert.DoesNotContain(Entries(await PageAsync(page.GetProperty("next").GetInt64())), e => e.GetProperty("kind").GetString() is "faultApplied" or "writeRefused");
    }

    [Theory]
    [InlineData("?after=-1")]
    [InlineData("?after=x")]
    [InlineData("?limit=0")]
    [InlineData("?limit=10001")]
    public async Task A_bad_journal_query_is_a_400(string query) =>
        Assert.Equal(HttpStatusCode.BadRequest, (await _node.Client.GetAsync("/admin/v1/journal" + query)).StatusCode);

    [Fact]
    public async Task The_journal_needs_the_key() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.GetAsync("/admin/v1/journal")).StatusCode);

    private async Task<JsonElement> PageAsync(long after) =>
        await _node.Client.GetFromJsonAsync<JsonElement>($"/admin/v1/journal?after={after}");

    private static IEnumerable<JsonElement> Entries(JsonElement page) => page.GetProperty("entries").EnumerateArray();
}
