using Shortener.Core.Links;

namespace Shortener.Core.Tests;

public class SeededRandomTests
{
    [Fact]
    public void Same_seed_same_sequence_different_seed_different_sequence()
    {
        var a = new SeededRandom(7);
        var b = new SeededRandom(7);
        var c = new SeededRandom(8);
        var sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToList();
        Assert.Equal(sa, Enumerable.Range(0, 100).Select(_ => b.NextUInt64()));
        Assert.NotEqual(sa, Enumerable.Range(0, 100).Select(_ => c.NextUInt64()));
    }

    [Fact]
    public void Next_is_in_range_and_roughly_uniform()
    {
        var random = new SeededRandom(1);
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++)
        {
            counts[random.Next(10)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}

public class LinkCursorTests
{
    [Theory]
    [InlineData(0L, "abc")]
    [InlineData(1795655962583L, "my-alias")]
    [InlineData(1L, "with:colon")]
    public void Round_trips(long createdAt, string code)
    {
        var token = new LinkCursor(createdAt, code).Encode();
        Assert.True(LinkCursor.TryDecode(token, out var back));
        Assert.Equal(new LinkCursor(createdAt, code), back);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("bm9jb2xvbg")]
    [InlineData("LTE6YWJj")]
    [InlineData("MTIzOg")]
    public void Refuses_tokens_it_did_not_make(string? token) => Assert.False(LinkCursor.TryDecode(token, out _));
}

public class LinkFieldRulesTests
{
    [Theory]
    [InlineData(null, 302)]
    [InlineData(301, 301)]
    [InlineData(307, 307)]
    [InlineData(308, 308)]
    public void Redirect_status_defaults_to_302(int? given, int expected) => Assert.Equal(expected, LinkFieldRules.RedirectStatus(given).Value);

    [Theory]
    [InlineData(200)]
    [InlineData(303)]
    [InlineData(404)]
    public void Other_statuses_are_refused(int status) => Assert.False(LinkFieldRules.RedirectStatus(status).IsValid);

    [Fact]
    public void Tags_are_checked_and_deduplicated()
    {
        Assert.Equal(["a", "b"], LinkFieldRules.Tags(["a", "b", "a"]).Value);
        Assert.False(LinkFieldRules.Tags(["has space"]).IsValid);
        Assert.False(LinkFieldRules.Tags([""]).IsValid);
        Assert.False(LinkFieldRules.Tags([null]).IsValid);
        Assert.False(LinkFieldRules.Tags(Enumerable.Range(0, 17).Select(i => $"t{i}")).IsValid);
        Assert.False(LinkFieldRules.Tags([new string('x', 33)]).IsValid);
    }

    [Fact]
    public void Expiry_must_be_in_the_future_and_visits_positive()
    {
        Assert.False(LinkFieldRules.ExpiresAt(1000, 1000).IsValid);
        Assert.True(LinkFieldRules.ExpiresAt(1001, 1000).IsValid);
        Assert.False(LinkFieldRules.MaxVisits(0).IsValid);
        Assert.True(LinkFieldRules.MaxVisits(1).IsValid);
        Assert.False(LinkFieldRules.Title("a\u0000b").IsValid);
        Assert.False(LinkFieldRules.Title(new string('t', 257)).IsValid);
    }
}
