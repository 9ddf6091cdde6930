using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>Reads a JSON request body with a size limit and turns every way it can be wrong into a clear problem.</summary>
internal static class JsonBody
{
    public static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        // A number is a JSON number: "301" is refused as PATCH refuses it (the Web defaults read it).
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        TypeInfoResolver = JsonTypeInfoResolver.Combine(ApiJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    public static async Task<BodyRead> ReadBytesAsync(HttpContext context, int maxBytes)
    {
        var contentType = context.Request.ContentType;
        if (contentType is null || !IsJson(contentType))
        {
            return BodyRead.Fail(Problems.Result(ProblemKind.UnsupportedMediaType, $"send the body as JSON with Content-Type: application/json (got {contentType ?? "no Content-Type"})"));
        }

        if (context.Request.ContentLength > maxBytes)
        {
            return BodyRead.Fail(Problems.Result(ProblemKind.PayloadTooLarge, $"the body may be at most {maxBytes} bytes"));
        }

        var body = context.Request.ContentLength is { } length
            ? await ReadExactlyAsync(context, (int)length).ConfigureAwait(false)
            : await ReadToEndAsync(context, maxBytes).ConfigureAwait(false);
        if (body is null)
        {
            return BodyRead.Fail(Problems.Result(ProblemKind.PayloadTooLarge, $"the body may be at most {maxBytes} bytes"));
        }

        if (body.Length == 0)
        {
            return BodyRead.Fail(Problems.Result(ProblemKind.MalformedRequest, "the request body is empty; send a JSON object"));
        }

        return new BodyRead(body, null);
    }

    /// <summary>A body of declared length (already checked against the limit): one array of that size, no copies.</summary>
    private static async Task<byte[]> ReadExactlyAsync(HttpContext context, int length)
    {
        var body = new byte[length];
        var read = await context.Request.Body.ReadAtLeastAsync(body, length, throwOnEndOfStream: false, context.RequestAborted).ConfigureAwait(false);
        return read == length ? body : body[..read];
    }

    /// <summary>A chunked body, read through a pooled buffer; null once it passes the limit.</summary>
    private static async Task<byte[]?> ReadToEndAsync(HttpContext context, int maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    public static IResult? TryDeserialize<T>(JsonElement body, out T? value)
    {
        try
        {
            value = body.Deserialize<T>(Strict);
            return value is null ? Problems.Result(ProblemKind.MalformedRequest, "the body must be a JSON object, not null") : null;
        }
        catch (JsonException e)
        {
            value = default;
            return Problems.Result(ProblemKind.MalformedRequest, Describe(e));
        }
    }

    public static string Describe(JsonException e)
    {
        var path = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "the body" : $"'{e.Path.TrimStart('$', '.')}'";
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var start = e.Message.IndexOf('\'', StringComparison.Ordinal);
            var end = start < 0 ? -1 : e.Message.IndexOf('\'', start + 1);
            var name = end > start ? e.Message[(start + 1)..end] : "?";
            return $"unknown field '{name}'";
        }

        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"{path} has a value of the wrong type";
        }

        return $"the body is not valid JSON (at {path}, line {(e.LineNumber ?? 0) + 1})";
    }

    private static bool IsJson(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
