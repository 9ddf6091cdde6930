using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class TargetUrlRulesTests
{
    private static readonly TargetUrlRules Rules = new(["https://sho.rt", "http://127.0.0.1:8080", "http://localhost:8080"]);

    /// <summary>Input, and the normalised URL it becomes, or null when it must be refused.</summary>
    public static TheoryData<string, string?> Cases => new()
    {
        // Accepted, normalised.
        { "https://example.com", "https://example.com" },
        { "https://example.com/", "https://example.com/" },
        { "http://example.com/path?q=1#frag", "http://example.com/path?q=1#frag" },
        { "HTTPS://EXAMPLE.COM/Case/Kept", "https://example.com/Case/Kept" },
        { "https://example.com:443/a", "https://example.com/a" },
        { "http://example.com:80/a", "http://example.com/a" },
        { "http://example.com:8080/a", "http://example.com:8080/a" },
        { "https://bücher.de/", "https://xn--bcher-kva.de/" },
        { "https://例え.テスト/パス", "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9" },
        { "https://xn--bcher-kva.de/", "https://xn--bcher-kva.de/" },
        { "http://[::1]", "http://[::1]" },
        { "http://[2001:DB8::1]:8443/x", "http://[2001:db8::1]:8443/x" },
        { "http://192.168.1.10/a", "http://192.168.1.10/a" },
        { "https://example.com/%zz?x=%20", "https://example.com/%zz?x=%20" },
        { "https://example.com/?q=ü", "https://example.com/?q=%C3%BC" },
        { "https://example.com.", "https://example.com" },
        { "https://sub.domain-with-hyphen.example.co.uk/a_b~c", "https://sub.domain-with-hyphen.example.co.uk/a_b~c" },
        { "http://localhost:3000/dev", "http://localhost:3000/dev" },
        { "https://sho.rt:8443/other-port", "https://sho.rt:8443/other-port" },
        { "https://example.com/" + new string('a', 8000), "https://example.com/" + new string('a', 8000) },

        // Refused.
        { "", null },
        { "example.com", null },
        { "/relative/path", null },
        { "//example.com/protocol-relative", null },
        { "javascript:alert(1)", null },
        { "JavaScript:alert(1)", null },
        { " javascript:alert(1)", null },
        { "data:text/html,<script>alert(1)</script>", null },
        { "file:///etc/passwd", null },
        { "ftp://example.com/file", null },
        { "mailto:someone@example.com", null },
        { "http://", null },
        { "http:///path", null },
        { "http:example.com", null },
        { "https:/example.com", null },
        { "http:\\\\evil.com", null },
        { "http://example.com\\@evil.com", null },
        { "http://user:pass@example.com/", null },
        { "http://google.com@evil.com/", null },
        { "http://exa mple.com/", null },
        { "https://example.com/a b", null },
        { " https://example.com", null },
        { "https://example.com\n", null },
        { "https://example.com/\tx", null },
        { "http://example.com:0/", null },
        { "http://example.com:65536/", null },
        { "http://example.com:port/", null },
        { "http://-bad-.com/", null },
        { "http://a..b/", null },
        { "http://exa_mple.com/", "http://exa_mple.com/" },
        { "http://-exa_mple.com/", null },
        { "http://exa!mple.com/", null },
        { "https://a.com/\uD83D\uDE00", "https://a.com/%F0%9F%98%80" },
        { "http://[::ffff:127.0.0.1]:8080/loop", null },
        { "http://0.0.0.0:8080/loop", null },
        { "http://[::]:8080/loop", null },
        { "http://127.0.0.2:8080/loop", null },
        { "http://[::ffff:10.0.0.1]:8080/ok", "http://[::ffff:10.0.0.1]:8080/ok" },
        { "http://%65xample.com/", null },
        { "http://2130706433/", null },
        { "http://127.1/", null },
        { "http://0x7f.0.0.1/", null },
        { "http://256.1.1.1/", null },
        { "http://[::1/", null },
        { "http://[not-an-ip]/", null },
        { "https://sho.rt/abc1234", null },
        { "https://SHO.RT:443/abc1234", null },
        { "http://127.0.0.1:8080/loop", null },
        { "http://localhost:8080/loop", null },
        { "https://example.com/" + new string('a', 8200), null },
        { "https://example.com/" + string.Concat(Enumerable.Repeat("é", 4090)), null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validates_and_normalises(string input, string? expected)
    {
        var result = Rules.Validate(input);
        if (expected is null)
        {
            Assert.False(result.IsValid, $"'{input}' was accepted as '{result.Value}'");
            Assert.False(string.IsNullOrWhiteSpace(result.Error));
        }
        else
        {
            Assert.True(result.IsValid, $"'{input}' was refused: {result.Error}");
            Assert.Equal(expected, result.Value);
        }
    }

    [Fact]
    public void Unpaired_surrogates_are_refused()
    {
        // Not theory rows: xunit would turn a lone surrogate into U+FFFD while passing it in.
        foreach (var input in new[] { "http://a.com/\uD800x", "http://a.com/\uD800\u4E00", "http://a.com/\uDC00", "http://a.com/x\uD800" })
        {
            var result = Rules.Validate(input);
            Assert.False(result.IsValid);
            Assert.Contains("unpaired UTF-16 surrogate", result.Error);
        }
    }

    [Fact]
    public void The_table_is_large_enough() => Assert.True(Cases.Count >= 40);

    [Fact]
    public void Normalised_urls_are_ascii_and_valid_location_headers()
    {
        foreach (var row in Cases)
        {
            var input = (string)row[0];
            var result = Rules.Validate(input);
            if (result.IsValid)
            {
                Assert.All(result.Value!, c => Assert.InRange(c, '!', '~'));
                Assert.DoesNotContain('\\', result.Value!);
                Assert.Matches("^https?://[a-z0-9_.:\\[\\]-]+(/|\\?|#|$)", result.Value);
            }
        }
    }

    [Fact]
    public void Errors_say_what_is_wrong()
    {
        Assert.Contains("http and https", Rules.Validate("javascript:alert(1)").Error);
        Assert.Contains("redirect loop", Rules.Validate("https://sho.rt/x").Error);
        Assert.Contains("user name or password", Rules.Validate("http://a@b.com").Error);
        Assert.Contains("8192 bytes", Rules.Validate("https://example.com/" + new string('a', 9000)).Error);
        Assert.Contains("position 7", Rules.Validate("http:/ /x").Error);
    }

    [Fact]
    public void Normalising_twice_changes_nothing()
    {
        foreach (var row in Cases)
        {
            var once = Rules.Validate((string)row[0]);
            if (once.IsValid)
            {
                Assert.Equal(once.Value, Rules.Validate(once.Value).Value);
            }
        }
    }
}
