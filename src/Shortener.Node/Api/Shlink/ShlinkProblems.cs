using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api.Shlink;

/// <summary>The errors the Shlink API answers with: Shlink's own problem types, and three of ours where Shlink has none.</summary>
public enum ShlinkProblemKind
{
    InvalidData,
    MalformedRequestBody,
    NonUniqueSlug,
    MissingAuthentication,
    InvalidApiKey,
    Forbidden,
    ForbiddenTagOperation,
    ShortUrlNotFound,
    TagNotFound,
    DomainNotFound,
    NotFound,
    TagConflict,
    MercureNotConfigured,
    NotSupported,
    NoQuorum,
    ClicksUnavailable,
    Internal,
}

/// <summary>
/// RFC 7807 problems as Shlink writes them under /rest (type <c>https://shlink.io/api/error/…</c>,
/// title, detail, status, and the fields of each type at the top level), which Shlink's clients
/// branch on. Where Shlink has no type (a role that does not reach, no quorum, a feature this
/// cluster lacks) the type is ours, <c>urn:shortener:problem:…</c>, as in /api/v1.
/// </summary>
public static class ShlinkProblems
{
    public const string Prefix = "/rest";

    private const string ShlinkTypes = "https://shlink.io/api/error/";

    /// <summary>Whether a request is one of the Shlink API's (its errors take Shlink's form).</summary>
    public static bool Applies(HttpRequest request) => request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    public static (int Status, string Type, string Title) Describe(ShlinkProblemKind kind) => kind switch
    {
        ShlinkProblemKind.InvalidData => (400, ShlinkTypes + "invalid-data", "Invalid data"),
        ShlinkProblemKind.MalformedRequestBody => (400, ShlinkTypes + "malformed-request-body", "Malformed request body"),
        ShlinkProblemKind.NonUniqueSlug => (400, ShlinkTypes + "non-unique-slug", "Invalid custom slug"),
        ShlinkProblemKind.MissingAuthentication => (401, ShlinkTypes + "missing-authentication", "Invalid authorization"),
        ShlinkProblemKind.InvalidApiKey => (401, ShlinkTypes + "invalid-api-key", "Invalid API key"),
        ShlinkProblemKind.Forbidden => (403, Problems.TypeUri(ProblemKind.Forbidden), "Not allowed"),
        ShlinkProblemKind.ForbiddenTagOperation => (403, ShlinkTypes + "forbidden-tag-operation", "Forbidden tag operation"),
        ShlinkProblemKind.ShortUrlNotFound => (404, ShlinkTypes + "short-url-not-found", "Short URL not found"),
        ShlinkProblemKind.TagNotFound => (404, ShlinkTypes + "tag-not-found", "Tag not found"),
        ShlinkProblemKind.DomainNotFound => (404, ShlinkTypes + "domain-not-found", "Domain not found"),
        ShlinkProblemKind.NotFound => (404, ShlinkTypes + "not-found", "Not Found"),
        ShlinkProblemKind.TagConflict => (409, ShlinkTypes + "tag-conflict", "Tag conflict"),
        ShlinkProblemKind.MercureNotConfigured => (501, ShlinkTypes + "mercure-not-configured", "Mercure integration not configured"),
        ShlinkProblemKind.NotSupported => (501, "urn:shortener:problem:not-supported", "Not supported by this server"),
        ShlinkProblemKind.NoQuorum => (503, Problems.TypeUri(ProblemKind.NoQuorum), "No quorum"),
        ShlinkProblemKind.ClicksUnavailable => (503, Problems.TypeUri(ProblemKind.ClicksUnavailable), "Visits cannot be read now"),
        ShlinkProblemKind.Internal => (500, ShlinkTypes + "internal-server-error", "Internal Server Error"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static IResult Result(ShlinkProblemKind kind, string detail, IReadOnlyDictionary<string, object?>? fields = null)
    {
        var (status, _, _) = Describe(kind);
        return Results.Json(Body(kind, detail, fields), ShlinkJson.Options, Problems.ContentType, status);
    }

    /// <summary>400 invalid-data naming the fields that failed (Shlink's detail is always the same sentence; ours says why).</summary>
    public static IResult Invalid(string field, string why) =>
        Result(ShlinkProblemKind.InvalidData, $"Provided data is not valid: {why}", new Dictionary<string, object?> { ["invalidElements"] = new[] { field } });

    public static async Task Write(HttpContext context, ShlinkProblemKind kind, string detail, IReadOnlyDictionary<string, object?>? fields = null)
    {
        var (status, _, _) = Describe(kind);
        context.Response.StatusCode = status;
        context.Response.ContentType = Problems.ContentType;
        await JsonSerializer.SerializeAsync(context.Response.Body, Body(kind, detail, fields), ShlinkJson.Options, context.RequestAborted);
    }

    private static Dictionary<string, object?> Body(ShlinkProblemKind kind, string detail, IReadOnlyDictionary<string, object?>? fields)
    {
        var (status, type, title) = Describe(kind);
        var body = new Dictionary<string, object?> { ["type"] = type, ["title"] = title, ["detail"] = detail, ["status"] = status };
        foreach (var (name, value) in fields ?? new Dictionary<string, object?>())
        {
            body[name] = value;
        }

        return body;
    }
}
