using System.Globalization;
using System.Net.Mime;
using System.Text.Json;
using System.Text.Json.Serialization;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Shortener.Core.Changes;
using Shortener.Core.Links;

namespace Shortener.Node.Changes;

/// <summary>
/// A link change as a CloudEvents 1.0 structured JSON event whose data is Debezium's envelope
/// (before, after, op, source, ts_ms): what the change feed and the sinks send (docs/cdc.md). The
/// event id is the change's offset, so it is the same whoever serves the event and however often.
/// </summary>
public sealed class ChangeEventFormat(ulong node)
{
    public const string ContentType = "application/cloudevents+json";

    private static readonly JsonEventFormatter Formatter = new(new JsonSerializerOptions(JsonSerializerDefaults.Web), default);

    /// <summary>The structured-mode JSON of <paramref name="change"/>'s event.</summary>
    public ReadOnlyMemory<byte> Encode(LinkChange change) => Formatter.EncodeStructuredModeMessage(ToCloudEvent(change), out _);

    public CloudEvent ToCloudEvent(LinkChange change) => new(CloudEventsSpecVersion.V1_0)
    {
        // A snapshot read is not a change in the log: its id names the snapshot point and the link.
        Id = change.Op == ChangeOperation.Read ? $"{change.Offset.Id}-r-{change.Code}" : change.Offset.Id,
        Source = new Uri(string.Create(CultureInfo.InvariantCulture, $"/shortener/links/{change.Offset.Shard}"), UriKind.Relative),
        Type = "io.shortener.link." + change.Op switch
        {
            ChangeOperation.Create => "created",
            ChangeOperation.Update => "updated",
            ChangeOperation.Delete => "deleted",
            _ => "read",
        },
        Time = DateTimeOffset.FromUnixTimeMilliseconds(change.AtMs),
        Subject = change.Code,
        DataContentType = MediaTypeNames.Application.Json,
        Data = Envelope(change),
    };

    /// <summary>Debezium's envelope, with the links as the link table holds them.</summary>
    public JsonElement Envelope(LinkChange change) => JsonSerializer.SerializeToElement(
        new DebeziumEnvelope(
            Row(change.Before),
            Row(change.After),
            ChangeOperations.Code(change.Op),
            new ChangeSource(node, change.Offset.Shard, change.Term, change.Offset.Index, change.Offset.Position, change.Hlc.ToString()),
            change.AtMs),
        EnvelopeJson);

    private static JsonElement? Row(Link? link) => link is null ? null : JsonSerializer.SerializeToElement(link, RowJson);

    // A row shows every column, null ones too, as Debezium's rows do.
    private static readonly JsonSerializerOptions RowJson = new(LinkJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    private static readonly JsonSerializerOptions EnvelopeJson = new(JsonSerializerDefaults.Web);

    private sealed record DebeziumEnvelope(
        JsonElement? Before,
        JsonElement? After,
        string Op,
        ChangeSource Source,
        [property: JsonPropertyName("ts_ms")] long TsMs);

    private sealed record ChangeSource(ulong Node, int Shard, ulong Term, ulong Index, int Position, string Hlc);
}
