using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Core.Links;
using Shortener.Core.Transactions;
using Shortener.Node.Shards;
using Shortener.Node.Transactions;

namespace Shortener.Node.Tests.Transactions;

/// <summary>Cross-shard transactions on one node of four shards: the coordinator through the shards' logs, and the recovery of abandoned ones.</summary>
public sealed class TransactionRunnerTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestNode _node = null!;

    private ShardHost Shards => _node.Services.GetRequiredService<ShardHost>();

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, new Dictionary<string, string?> { ["Shortener:Cluster:Shards"] = "4" });

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Codes with the prefix that fall in <paramref name="count"/> different shards.</summary>
    private List<string> CodesOnDistinctShards(string prefix, int count) =>
        [.. Enumerable.Range(0, 1000).Select(i => $"{prefix}{i}").GroupBy(c => Shards.Router.ShardOf(c)).Take(count).Select(g => g.First())];

    private static CreateLink Create(string code) => new(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), code, "https://example.com/" + code, null, null, 302, [], null);

    [Fact]
    public async Task Writes_on_several_shards_commit_together_and_each_is_one_change_event()
    {
        var codes = CodesOnDistinctShards("tx", 3);
        var outcome = await _node.Services.GetRequiredService<TransactionRunner>().RunAsync([.. codes.Select(Create)], CancellationToken.None);
        Assert.True(outcome.Committed, $"{outcome}");
        foreach (var code in codes)
        {
            Assert.Equal(HttpStatusCode.OK, (await _node.Client.GetAsync($"/api/v1/links/{code}")).StatusCode);
        }

        var feed = await _node.Client.GetFromJsonAsync<JsonElement>("/api/v1/changes?limit=100&wait=0");
        var created = feed.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("subject").GetString()!).ToList();
        Assert.Equal(codes.Order(), created.Where(codes.Contains).Order());
    }

    [Fact]
    public async Task One_write_that_cannot_be_made_aborts_them_all_and_says_which()
    {
        var codes = CodesOnDistinctShards("ab", 3);
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/taken", alias = codes[2] })).StatusCode);

        var outcome = await _node.Services.GetRequiredService<TransactionRunner>().RunAsync([.. codes.Select(Create)], CancellationToken.None);
        Assert.Equal(TransactionState.Aborted, outcome.State);
        Assert.Equal(CommandOutcome.Conflict, outcome.Refusal!.Outcome);
        Assert.Equal(codes[2], outcome.Refusal.Link!.Code);
        Assert.Equal(HttpStatusCode.NotFound, (await _node.Client.GetAsync($"/api/v1/links/{codes[0]}")).StatusCode);

        // Nothing is left locked: the codes take ordinary writes again.
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/free", alias = codes[0] })).StatusCode);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(TransactionState.Committed, true)]
    public async Task An_abandoned_transaction_is_finished_from_its_record_once_its_deadline_passed(TransactionState? decided, bool made)
    {
        // A coordinator that began, prepared and (maybe) decided, then went away before resolving.
        var codes = CodesOnDistinctShards("ab", 2);
        var home = Shards.Router.ShardOf(codes[0]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var participants = codes.Select(c => Shards.Router.ShardOf(c)).ToList();
        await Propose(home, new BeginTransaction(now, "gone", participants, now + 1_500));
        foreach (var code in codes)
        {
            Assert.Equal(CommandOutcome.Ok, (await Propose(Shards.Router.ShardOf(code), new PrepareIntents(now, "gone", home, now + 1_500, [Create(code)]))).Outcome);
        }

        if (decided is { } decision)
        {
            await Propose(home, new DecideTransaction(now, "gone", decision));
        }

        // Locked meanwhile.
        var refused = await Propose(Shards.Router.ShardOf(codes[1]), Create(codes[1]));
        Assert.Equal("gone", refused.LockedBy);

        // Past the deadline a sweep (this node's own, every second, or this one) decides the
        // record if nobody did, and resolves the intents from it.
        await Task.Delay(1_600);
        var expected = made ? TransactionState.Committed : TransactionState.Aborted;
        var until = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < until && !(RecordState(home) == expected && Shards.Replicas.All(r => r.Links.Intents(10).Count == 0)))
        {
            await _node.Services.GetRequiredService<IntentSweeper>().SweepAsync(CancellationToken.None);
            await Shards.Replicas[home].Links.WhenCommittedAsync();
            await Task.Delay(100);
        }

        Assert.Equal(expected, RecordState(home));
        Assert.All(Shards.Replicas, r => Assert.Empty(r.Links.Intents(10)));
        foreach (var code in codes)
        {
            Assert.Equal(made ? HttpStatusCode.OK : HttpStatusCode.NotFound, (await _node.Client.GetAsync($"/api/v1/links/{code}")).StatusCode);
        }
    }

    /// <summary>The transaction's record as the coordinator shard last committed it.</summary>
    private TransactionState? RecordState(int home) =>
        Shards.Replicas[home].Links.Document(TransactionRecord.KeyOf("gone")) is { } stored ? TransactionRecord.Parse(stored.Document).State : null;

    private Task<CommandResult> Propose(int shard, LinkCommand command) =>
        Shards.Replicas[shard].ProposeAsync(new LinkCommandEnvelope(command), CancellationToken.None);
}
