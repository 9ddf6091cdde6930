using Shortener.Cli.Commands;

namespace Shortener.Cli.Tests;

public class ExpiryParserTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("30s", "2030-01-01T00:00:30Z")]
    [InlineData("90m", "2030-01-01T01:30:00Z")]
    [InlineData("12h", "2030-01-01T12:00:00Z")]
    [InlineData("7d", "2030-01-08T00:00:00Z")]
    [InlineData("2w", "2030-01-15T00:00:00Z")]
    [InlineData("2030-06-01T12:00:00Z", "2030-06-01T12:00:00Z")]
    [InlineData("2030-06-01", "2030-06-01T00:00:00Z")]
    public void Parses(string text, string expected)
    {
        Assert.True(ExpiryParser.TryParse(text, Now, out var at));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), at);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("7x")]
    [InlineData("-5d")]
    [InlineData("0d")]
    [InlineData("99999999d")]
    public void Refuses(string text) => Assert.False(ExpiryParser.TryParse(text, Now, out _));
}
