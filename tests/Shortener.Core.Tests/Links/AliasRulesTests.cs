using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class AliasRulesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("my-link")]
    [InlineData("My_Link_2026")]
    [InlineData("A1-")]
    [InlineData("___")]
    [InlineData("APIs")]
    [InlineData("administrator")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public void Accepts(string alias)
    {
        var result = AliasRules.Validate(alias);
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(alias, result.Value);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("ab", "3 to 64")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234", "3 to 64")]
    [InlineData("has space", "position 4")]
    [InlineData("dot.ted", "'.'")]
    [InlineData("slash/es", "'/'")]
    [InlineData("ümlaut", "'ü'")]
    [InlineData("tab\tx", "U+0009")]
    [InlineData("emoji😀", "position 6")]
    [InlineData("api", "reserved")]
    [InlineData("API", "reserved")]
    [InlineData("Admin", "reserved")]
    [InlineData("metrics", "reserved")]
    [InlineData("healthz", "reserved")]
    [InlineData("readyz", "reserved")]
    [InlineData("openapi", "reserved")]
    [InlineData("dashboard", "reserved")]
    [InlineData("static", "reserved")]
    public void Refuses_with_a_reason(string alias, string reason)
    {
        var result = AliasRules.Validate(alias);
        Assert.False(result.IsValid);
        Assert.Contains(reason, result.Error);
    }

    [Fact]
    public void Aliases_are_case_sensitive_codes()
    {
        var table = new InMemoryLinkTable();
        Assert.Equal(CommandOutcome.Created, LinkStateMachine.Apply(table, LinkFactory.Create("MyLink")).Outcome);
        Assert.Equal(CommandOutcome.Created, LinkStateMachine.Apply(table, LinkFactory.Create("mylink")).Outcome);
        Assert.Equal(CommandOutcome.Conflict, LinkStateMachine.Apply(table, LinkFactory.Create("MyLink")).Outcome);
    }
}
