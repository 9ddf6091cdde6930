using Shortener.Core.Links;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests;

/// <summary>The Shlink list's filters and orders over a shard's live links, and tag counts.</summary>
public sealed class SqliteLinkQueryTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SqliteLinkStore _store;

    public SqliteLinkQueryTests()
    {
        _store = SqliteLinkStore.Open(_dir.File("links.db"));
        Apply(new CreateLink(1_000, "alpha", "https://b.example/shop", null, null, 302, ["sale", "winter"], "Winter sale"));
        Apply(new CreateLink(2_000, "beta", "https://a.example/blog", 10_000, null, 302, ["blog"], null, Owner: "team"));
        Apply(new CreateLink(3_000, "gamma", "https://c.example/100%_off", null, 1, 302, ["sale"], "Half_price"));
        Apply(new RecordVisit(3_500, "gamma"));
        Apply(new CreateLink(4_000, "delta", "https://d.example/", null, null, 302, [], "gone"));
        Apply(new DeleteLink(5_000, "delta"));
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(null, "gamma,beta,alpha")]
    [InlineData("SALE", "gamma,alpha")] // tag and title, case-insensitive
    [InlineData("a.example", "beta")]
    [InlineData("100%", "gamma")] // % is a character, not a wildcard
    [InlineData("ha_f", "")] // _ likewise: as a wildcard it would match "Half"
    [InlineData("lf_pr", "gamma")]
    public void Search_terms_match_code_url_title_and_tags_literally(string? term, string expected) =>
        Assert.Equal(expected, Codes(new LinkQuery(SearchTerm: term)));

    [Fact]
    public void Tag_filters_dates_limits_owner_and_order()
    {
        Assert.Equal("gamma,beta,alpha", Codes(new LinkQuery(Tags: ["sale", "blog"], AllTags: false)));
        Assert.Equal("alpha", Codes(new LinkQuery(Tags: ["sale", "winter"], AllTags: true)));
        Assert.Equal("gamma,beta", Codes(new LinkQuery(ExcludeTags: ["winter"])));
        Assert.Equal("gamma,beta", Codes(new LinkQuery(ExcludeTags: ["sale", "winter"], AllExcludeTags: true)));
        Assert.Equal("beta", Codes(new LinkQuery(CreatedFrom: 1_500, CreatedTo: 2_500)));
        Assert.Equal("beta,alpha", Codes(new LinkQuery(ExcludeMaxVisitsReached: true)));
        Assert.Equal("gamma,alpha", Codes(new LinkQuery(ExcludeExpiredAt: 10_000)));
        Assert.Equal("beta", Codes(new LinkQuery(Owner: "team")));
        Assert.Equal("beta,alpha,gamma", Codes(new LinkQuery(Order: LinkOrder.LongUrl, Descending: false)));
        Assert.Equal("beta,gamma,alpha", Codes(new LinkQuery(Order: LinkOrder.Title, Descending: false))); // null first, then ordinal
        Assert.Equal("alpha,beta,gamma", Codes(new LinkQuery(Order: LinkOrder.ShortCode, Descending: false)));

        var page = _store.Query(0, new LinkQuery(), take: 1);
        Assert.Equal((1, 3), (page.Links.Count, page.Total));
    }

    [Fact]
    public void Compare_orders_as_the_query_does()
    {
        foreach (var order in Enum.GetValues<LinkOrder>())
        {
            foreach (var descending in new[] { true, false })
            {
                var query = new LinkQuery(Order: order, Descending: descending);
                var fromDb = _store.Query(0, query, 10).Links;
                var sorted = fromDb.ToList();
                sorted.Sort(query.Compare);
                Assert.Equal(fromDb.Select(l => l.Code), sorted.Select(l => l.Code));
            }
        }
    }

    [Fact]
    public void Tag_counts_cover_live_links_and_an_owner_sees_its_own()
    {
        Assert.Equal([("blog", 1), ("sale", 2), ("winter", 1)], _store.TagCounts(0, null).OrderBy(t => t.Tag, StringComparer.Ordinal));
        Assert.Equal([("blog", 1)], _store.TagCounts(0, "team"));
    }

    private string Codes(LinkQuery query) => string.Join(',', _store.Query(0, query, 100).Links.Select(l => l.Code));

    private void Apply(LinkCommand command) => Assert.True(_store.Apply(new LinkCommandEnvelope(command)).Succeeded);
}
