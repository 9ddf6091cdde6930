using System.Globalization;
using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace Shortener.Node.Clicks;

/// <summary>
/// A visit as a CloudEvents 1.0 structured JSON event (<c>io.shortener.visit.recorded</c>): id the
/// click's own id (the same however often it is sent), subject the link's code, data what the click
/// store counts of it (time, hybrid logical clock, human or bot, referrer host, country) and where
/// it stands in the serving node's stream.
/// </summary>
public static class VisitEventFormat
{
    private static readonly JsonEventFormatter Formatter = new(new JsonSerializerOptions(JsonSerializerDefaults.Web), default);

    public static ReadOnlyMemory<byte> Encode(Visit visit, ulong node) => Formatter.EncodeStructuredModeMessage(
        new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = "visit-" + visit.Click.Id.ToString("N"),
            Source = new Uri(string.Create(CultureInfo.InvariantCulture, $"/shortener/visits/{node}"), UriKind.Relative),
            Type = "io.shortener.visit.recorded",
            Time = DateTimeOffset.FromUnixTimeMilliseconds(visit.Click.AtMs),
            Subject = visit.Click.Code,
            DataContentType = MediaTypeNames.Application.Json,
            Data = JsonSerializer.SerializeToElement(
                new VisitData(visit.Click.Code, visit.Click.AtMs, visit.Click.Hlc.ToString(), visit.Click.Kind == Core.Clicks.ClickKind.Bot ? "bot" : "human", visit.Click.Referrer, visit.Click.Country, node, visit.Seq),
                Json),
        },
        out _);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record VisitData(string Code, long At, string Hlc, string Kind, string? Referrer, string? Country, ulong Node, long Seq);
}
