using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shortener.Core.Links;

namespace Shortener.Node.Api.Shlink;

/// <summary>
/// Reading what Shlink's clients send: query values (arrays as <c>tags[]</c>), JSON bodies with
/// Shlink's field names (unknown keys ignored, as Shlink 4 does), its tag normalisation. Each
/// reader gives the value or the problem to answer, naming the field (<c>invalidElements</c>).
/// </summary>
public static class ShlinkRequest
{
    /// <summary>A repeated query parameter, sent as <c>name[]</c> (or plain <c>name</c>).</summary>
    public static IReadOnlyList<string> Array(IQueryCollection query, string name) =>
        [.. query[name + "[]"].Concat(query[name]).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!)];

    public static bool Flag(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>An ISO-8601 query date, null when absent; the problem when it is not a date.</summary>
    public static (long? Value, IResult? Problem) Date(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return (null, null);
        }

        return ShlinkJson.ParseDate(text) is { } at ? (at, null) : (null, ShlinkRequest.Invalid(name, $"{name} must be an ISO-8601 date"));
    }

    public static IResult Invalid(string field, string why) => ShlinkProblems.Invalid(field, why);

    /// <summary>Shlink's tags: trimmed, lower case, spaces as '-'; then this cluster's tag rules.</summary>
    public static (IReadOnlyList<string>? Tags, IResult? Problem) Tags(IEnumerable<string?> raw, string field = "tags")
    {
        var normalised = raw.Select(t => t?.Trim().ToLowerInvariant().Replace(' ', '-'));
        var checkedTags = LinkFieldRules.Tags(normalised);
        return checkedTags.IsValid ? (checkedTags.Value, null) : (null, Invalid(field, checkedTags.Error!));
    }

    /// <summary>Reads a JSON object body (up to <paramref name="maxBytes"/>); the problem when there is none.</summary>
    public static async Task<(JsonDocument? Body, IResult? Problem)> ObjectAsync(HttpContext context, int maxBytes)
    {
        var read = await JsonBody.ReadBytesAsync(context, maxBytes);
        if (read.Problem is not null)
        {
            return (null, read.Problem);
        }

        try
        {
            var document = JsonDocument.Parse(read.Body!);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return (document, null);
            }

            document.Dispose();
        }
        catch (JsonException)
        {
        }

        return (null, ShlinkProblems.Result(ShlinkProblemKind.MalformedRequestBody, "Provided request does not contain a valid JSON body."));
    }

    /// <summary>A JSON field: absent, null, or present; the problem when it has the wrong kind.</summary>
    public readonly record struct Field<T>(bool Present, T? Value, IResult? Problem)
    {
        public bool IsNull => Present && Value is null && Problem is null;
    }

    public static Field<string?> String(JsonElement body, string name) => Read(body, name, e => e.ValueKind == JsonValueKind.String ? e.GetString() : throw new FormatException("a string"));

    public static Field<bool?> Bool(JsonElement body, string name) => Read<bool?>(body, name, e => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw new FormatException("true or false"));

    public static Field<long?> Number(JsonElement body, string name) =>
        Read<long?>(body, name, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n) ? n : throw new FormatException("a whole number"));

    public static Field<long?> Date(JsonElement body, string name) =>
        Read<long?>(body, name, e => e.ValueKind == JsonValueKind.String && ShlinkJson.ParseDate(e.GetString()) is { } at ? at : throw new FormatException("an ISO-8601 date"));

    public static Field<string?[]> Strings(JsonElement body, string name) =>
        Read(body, name, e => e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String)
            ? e.EnumerateArray().Select(t => t.GetString()).ToArray()
            : throw new FormatException("an array of strings"));

    private static Field<T> Read<T>(JsonElement body, string name, Func<JsonElement, T> read)
    {
        if (!body.TryGetProperty(name, out var element))
        {
            return new Field<T>(false, default, null);
        }

        if (element.ValueKind == JsonValueKind.Null)
        {
            return new Field<T>(true, default, null);
        }

        try
        {
            return new Field<T>(true, read(element), null);
        }
        catch (FormatException e)
        {
            return new Field<T>(true, default, Invalid(name, $"{name} must be {e.Message}"));
        }
    }

    public static int? Int(IQueryCollection query, string name) =>
        int.TryParse(query[name], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
}
