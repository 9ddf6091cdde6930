using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>
/// What the two event feeds (link changes, visits) share over HTTP: their <c>limit</c> and
/// <c>wait</c> parameters, and a page's JSON, <c>{"events": [CloudEvents…], "next": position}</c>.
/// </summary>
public static class EventFeedQuery
{
    public const int DefaultLimit = 100;

    /// <summary>How long an empty page waits for an event by default, and at most.</summary>
    public const int DefaultWaitSeconds = 20;

    public const int MaxWaitSeconds = 60;

    /// <summary>Reads <c>limit</c> (1 to <paramref name="maxLimit"/>) and <c>wait</c> (seconds); a problem when either is bad.</summary>
    public static IResult? TryRead(IQueryCollection query, int maxLimit, out int limit, out int wait)
    {
        wait = DefaultWaitSeconds;
        limit = DefaultLimit;
        if (query.TryGetValue("limit", out var text) && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 || limit > maxLimit))
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"limit must be a whole number from 1 to {maxLimit}");
        }

        if (query.TryGetValue("wait", out text) && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out wait) || wait > MaxWaitSeconds))
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"wait must be a whole number of seconds from 0 to {MaxWaitSeconds}");
        }

        return null;
    }

    /// <summary>A page as JSON: the events (each already a CloudEvent's JSON) and the position to ask from next.</summary>
    public static IResult Page(IEnumerable<ReadOnlyMemory<byte>> events, string next)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("events");
            foreach (var item in events)
            {
                writer.WriteRawValue(item.Span, skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteString("next", next);
            writer.WriteEndObject();
        }

        return Results.Bytes(buffer.ToArray(), "application/json");
    }
}
