using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>
/// Parses a request body strictly (an object, no duplicate fields, valid UTF-16 strings) and
/// renders it canonically: keys sorted, no whitespace, and <c>expiresAt</c> as Unix milliseconds,
/// so two bodies that mean the same request hash the same whatever their field order, spacing or
/// time-zone notation.
/// </summary>
internal static class CanonicalJson
{
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    public static (JsonDocument? Document, string? Canonical, IResult? Problem) Parse(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Options);
        }
        catch (JsonException e)
        {
            return (null, null, Problems.Result(ProblemKind.MalformedRequest, e.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? "a field appears twice in the body" : JsonBody.Describe(e)));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, null, Problems.Result(ProblemKind.MalformedRequest, "the body must be a JSON object"));
        }

        try
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                Write(writer, document.RootElement, propertyName: null);
            }

            return (document, Encoding.UTF8.GetString(buffer.ToArray()), null);
        }
        catch (InvalidOperationException)
        {
            // JsonElement.GetString refuses escapes that are not valid UTF-16 (a lone surrogate).
            document.Dispose();
            return (null, null, Problems.Result(ProblemKind.MalformedRequest, "a string in the body has an invalid \\u escape (an unpaired surrogate)"));
        }
    }

    /// <summary>The hash an idempotency key is bound to: method, path and canonical body.</summary>
    public static string RequestHash(HttpContext context, string canonicalBody) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{context.Request.Method} {context.Request.Path}\n{canonicalBody}")));

    private static void Write(Utf8JsonWriter writer, JsonElement element, string? propertyName)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value, property.Name);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item, null);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                var text = element.GetString()!;
                if (propertyName == "expiresAt" && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                {
                    writer.WriteNumberValue(at.ToUnixTimeMilliseconds());
                }
                else
                {
                    writer.WriteStringValue(text);
                }

                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
