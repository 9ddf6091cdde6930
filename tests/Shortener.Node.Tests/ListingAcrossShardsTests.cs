using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shortener.Node.Links;

namespace Shortener.Node.Tests;

/// <summary>Listing merges the shards' pages: paging must be exact whether the links share a shard or not.</summary>
public sealed class ListingAcrossShardsTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, time: _time);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    public async Task Pages_walk_every_link_once_newest_first(bool sameShard, int limit)
    {
        var router = _node.Services.GetRequiredService<LinkService>().Shards.Router;
        var aliases = Enumerable.Range(0, 400).Select(i => $"page-{i}")
            .Where(a => !sameShard || router.ShardOf(a) == router.ShardOf("page-0"))
            .Take(7)
            .ToList();
        if (!sameShard)
        {
            Assert.True(aliases.Select(router.ShardOf).Distinct().Count() > 3, "the aliases should spread over shards");
        }

        foreach (var alias in aliases)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var created = await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = $"https://example.com/{alias}", alias });
            created.EnsureSuccessStatusCode();
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _node.Client.GetFromJsonAsync<JsonElement>($"/api/v1/links?limit={limit}" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}"));
            var items = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("code").GetString()!).ToList();
            Assert.InRange(items.Count, 1, limit);
            seen.AddRange(items);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        aliases.Reverse();
        Assert.Equal(aliases, seen);
    }
}
