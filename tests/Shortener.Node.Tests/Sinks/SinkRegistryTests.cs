using Microsoft.Extensions.Logging.Abstractions;
using Shortener.Node.Sinks;

namespace Shortener.Node.Tests.Sinks;

/// <summary>A node's copy of the sink list: only newer versions, and only lists it can read.</summary>
public sealed class SinkRegistryTests
{
    private static string ListOf(params string[] names) =>
        new SinkList([.. names.Select(n => SinkDefinition.Validate(n, "redis", "redis://127.0.0.1:6379", null, null, null, now: 1))]).Serialize();

    [Fact]
    public void A_list_this_node_cannot_read_is_passed_over_and_the_one_held_is_kept()
    {
        var registry = new SinkRegistry(NullLogger<SinkRegistry>.Instance);
        registry.Adopt(ListOf("first"), version: 3);

        registry.Adopt("{\"sinks\": \"not a list\"", version: 4);
        registry.Adopt(ListOf("twin", "twin"), version: 5);
        registry.Adopt("""{"sinks": [{"name": "no-url", "kind": "redis"}]}""", version: 6);
        Assert.Equal(3, registry.Current.Version);
        Assert.Equal(["first"], registry.Current.List.Sinks.Select(s => s.Name));

        // An older or equal version is never taken back; the next good one is.
        registry.Adopt(ListOf("stale"), version: 3);
        Assert.Equal(["first"], registry.Current.List.Sinks.Select(s => s.Name));
        registry.Adopt(ListOf("first", "second"), version: 7);
        Assert.Equal(7, registry.Current.Version);
        Assert.Equal(["first", "second"], registry.Current.List.Sinks.Select(s => s.Name));
    }
}
