using System.Globalization;
using System.Text.Json;

namespace Shortener.Node.Api.Shlink;

/// <summary>The Shlink API's JSON: camelCase, nulls written (Shlink's objects always carry every key), ATOM dates.</summary>
public static class ShlinkJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>A time as Shlink writes it: ATOM, <c>2019-01-01T00:00:00+00:00</c> (never Z).</summary>
    public static string Date(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static string? Date(long? unixMs) => unixMs is { } ms ? Date(ms) : null;

    /// <summary>An ISO-8601 time as clients send it (a date alone is its UTC midnight); null when it is not one.</summary>
    public static long? ParseDate(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at.ToUnixTimeMilliseconds()
            : null;
}
