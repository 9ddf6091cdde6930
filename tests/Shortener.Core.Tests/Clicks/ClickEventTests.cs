using CsCheck;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clicks;

public class ClickEventTests
{
    private static readonly Gen<ClickEvent> Events =
        Gen.Select(Gen.Guid, Gen.String[Gen.Char.AlphaNumeric, 1, 64], Gen.Long[0, 1L << 46], Gen.Int[0, 1000], Gen.Bool,
            Gen.String[Gen.Char.AlphaNumeric, 0, 60], Gen.OneOfConst<string?>(null, "DE", "US"))
        .Select((id, code, at, logical, bot, referrer, country) =>
            new ClickEvent(id, code, at, new HlcTimestamp(at, logical), bot ? ClickKind.Bot : ClickKind.Human, referrer.Length == 0 ? null : referrer, country));

    [Fact]
    public void Events_round_trip_through_their_binary_form()
    {
        Events.Sample(e => Assert.Equal(e, ClickEvent.Decode(e.Encode())));
    }

    [Fact]
    public void A_click_with_its_origin_round_trips_and_one_without_keeps_the_first_format_and_its_content_hash()
    {
        Events.Sample(e =>
        {
            var withOrigin = e with { Origin = 7 };
            var back = ClickEvent.Decode(withOrigin.Encode());
            Assert.Equal(7UL, back.Origin);
            Assert.Equal(withOrigin, back);
            Assert.Equal(1, e.Encode()[0]);
            Assert.Equal(2, withOrigin.Encode()[0]);
            Assert.Equal(e.Encode()[1..], withOrigin.Encode()[1..^8]);
            Assert.NotEqual(ClickHashes.ContentHash(e), ClickHashes.ContentHash(withOrigin));
        });

        // Format 2 with origin 0 is not something a writer makes.
        var zero = new ClickEvent(Guid.NewGuid(), "abc", 1, new HlcTimestamp(1, 0), ClickKind.Human, null, null) { Origin = 1 }.Encode();
        zero.AsSpan(zero.Length - 8).Clear();
        Assert.Throws<FormatException>(() => ClickEvent.Decode(zero));
    }

    [Fact]
    public void Anything_else_is_refused_as_a_format_error()
    {
        var good = new ClickEvent(Guid.NewGuid(), "abc", 1, new HlcTimestamp(1, 0), ClickKind.Human, "x.example", null).Encode();
        Assert.Throws<FormatException>(() => ClickEvent.Decode(good[..^1]));
        Assert.Throws<FormatException>(() => ClickEvent.Decode([.. good, 0]));
        Assert.Throws<FormatException>(() => ClickEvent.Decode([2, .. good[1..]]));
        var badKind = (byte[])good.Clone();
        badKind[33] = 9;
        Assert.Throws<FormatException>(() => ClickEvent.Decode(badKind));
        Assert.Throws<FormatException>(() => ClickEvent.Decode([]));
    }

    [Theory]
    [InlineData("GET", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", ClickKind.Human)]
    [InlineData("HEAD", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", ClickKind.Bot)]
    [InlineData("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ClickKind.Bot)]
    [InlineData("GET", "facebookexternalhit/1.1", ClickKind.Bot)]
    [InlineData("GET", "curl/8.5.0", ClickKind.Bot)]
    [InlineData("GET", null, ClickKind.Bot)]
    [InlineData("GET", "Twitterbot/1.0", ClickKind.Bot)]
    [InlineData("GET", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", ClickKind.Bot)]
    [InlineData("GET", "Mozilla/5.0 (Linux; Android 9; CUBOT X19 Build/PPR1.180610.011) Mobile Safari/537.36", ClickKind.Human)]
    public void Bots_are_told_apart_by_method_and_user_agent(string method, string? agent, ClickKind expected) =>
        Assert.Equal(expected, ClickClassifier.Classify(method, agent));

    [Theory]
    [InlineData("https://www.News.example/a?b=c", "news.example")]
    [InlineData("http://blog.example:8080/", "blog.example")]
    [InlineData("android-app://com.example", null)]
    [InlineData("not a url", null)]
    [InlineData(null, null)]
    public void Referrers_are_reduced_to_their_host(string? referer, string? host) => Assert.Equal(host, ClickClassifier.ReferrerHost(referer));

    [Fact]
    public void Countries_come_only_as_two_letter_codes()
    {
        Assert.Equal("DE", ClickClassifier.Country("de"));
        Assert.Null(ClickClassifier.Country("XX"));
        Assert.Null(ClickClassifier.Country("Germany"));
        Assert.Null(ClickClassifier.Country(null));
    }

    [Fact]
    public void Empty_fields_are_none_and_what_the_format_cannot_hold_is_refused_by_the_writer()
    {
        var empty = new ClickEvent(Guid.NewGuid(), "abc", 1, default, ClickKind.Human, "", "");
        Assert.Null(empty.Referrer);
        Assert.Null(empty.Country);
        Assert.Equal(empty, ClickEvent.Decode(empty.Encode()));
        Assert.Throws<ArgumentException>(() => (empty with { Code = "" }).Encode());
        Assert.Throws<ArgumentException>(() => (empty with { Code = new string('x', 70_000) }).Encode());
        Assert.Throws<ArgumentException>(() => (empty with { Country = new string('x', 300) }).Encode());
        Assert.Throws<ArgumentException>(() => (empty with { Hlc = new HlcTimestamp(1, 70_000) }).Encode());
    }

    [Fact]
    public void A_click_belongs_to_its_utc_day()
    {
        Assert.Equal(0, new ClickEvent(Guid.Empty, "a", 86_399_999, default, ClickKind.Human, null, null).Day);
        Assert.Equal(1, new ClickEvent(Guid.Empty, "a", 86_400_000, default, ClickKind.Human, null, null).Day);
    }
}
