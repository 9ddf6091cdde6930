using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Shortener.Core.Changes;
using Shortener.Core.Clocks;
using Shortener.Core.Links;
using Shortener.Node.Changes;

namespace Shortener.Node.Tests.Changes;

public sealed class ChangeEventFormatTests
{
    private static readonly Link Launch = new("launch", "https://example.com/", 1_765_101_600_123, 1_765_101_600_123, null, null, 0, 302, ["news"], "Launch", false);

    [Fact]
    public void A_change_is_a_structured_cloud_event_with_debeziums_envelope()
    {
        var change = new LinkChange(new ChangeOffset(3, 1200, 0), 7, ChangeOperation.Create, null, Launch, Launch.CreatedAt, new HlcTimestamp(1_765_101_600_123, 2));
        var json = new ChangeEventFormat(node: 2).Encode(change);

        // It reads back as a CloudEvent through the SDK.
        var parsed = new JsonEventFormatter().DecodeStructuredModeMessage(json, new System.Net.Mime.ContentType(ChangeEventFormat.ContentType), null);
        Assert.Equal(CloudEventsSpecVersion.V1_0, parsed.SpecVersion);
        Assert.Equal("links-3-1200-0", parsed.Id);
        Assert.Equal("io.shortener.link.created", parsed.Type);
        Assert.Equal("/shortener/links/3", parsed.Source!.ToString());
        Assert.Equal("launch", parsed.Subject);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(Launch.CreatedAt), parsed.Time);

        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data");
        Assert.Equal(JsonValueKind.Null, data.GetProperty("before").ValueKind);
        Assert.Equal("https://example.com/", data.GetProperty("after").GetProperty("url").GetString());
        Assert.Equal(["news"], data.GetProperty("after").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        // A row shows every column, a null one too, as Debezium's rows do.
        Assert.Equal(JsonValueKind.Null, data.GetProperty("after").GetProperty("expiresAt").ValueKind);
        Assert.Equal("c", data.GetProperty("op").GetString());
        Assert.Equal(Launch.CreatedAt, data.GetProperty("ts_ms").GetInt64());
        var source = data.GetProperty("source");
        Assert.Equal((2UL, 3, 7UL, 1200UL, "1765101600123.2"), (source.GetProperty("node").GetUInt64(), source.GetProperty("shard").GetInt32(), source.GetProperty("term").GetUInt64(), source.GetProperty("index").GetUInt64(), source.GetProperty("hlc").GetString()));
    }

    [Fact]
    public void The_id_is_the_offset_whichever_node_serves_it()
    {
        var deleted = new LinkChange(new ChangeOffset(1, 5, 3), 2, ChangeOperation.Delete, Launch, null, 9, default);
        var one = new ChangeEventFormat(1).ToCloudEvent(deleted);
        var two = new ChangeEventFormat(2).ToCloudEvent(deleted);
        Assert.Equal(one.Id, two.Id);
        Assert.Equal("io.shortener.link.deleted", one.Type);
        using var data = JsonDocument.Parse(new ChangeEventFormat(1).Encode(deleted));
        Assert.Equal(JsonValueKind.Null, data.RootElement.GetProperty("data").GetProperty("after").ValueKind);
        Assert.Equal("d", data.RootElement.GetProperty("data").GetProperty("op").GetString());
    }
}
