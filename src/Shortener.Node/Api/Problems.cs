using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>
/// RFC 9457 problem details with stable types (urn:shortener:problem:&lt;slug&gt;), so clients can
/// branch on <c>type</c> rather than on prose.
/// </summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    public static (int Status, string Slug, string Title) Describe(ProblemKind kind) => kind switch
    {
        ProblemKind.MalformedRequest => (400, "malformed-request", "The request could not be read"),
        ProblemKind.InvalidField => (422, "invalid-field", "A field has an invalid value"),
        ProblemKind.UnsupportedMediaType => (415, "unsupported-media-type", "The body must be JSON"),
        ProblemKind.PayloadTooLarge => (413, "payload-too-large", "The request body is too large"),
        ProblemKind.Unauthorized => (401, "unauthorized", "An API key is required"),
        ProblemKind.Forbidden => (403, "forbidden", "Not allowed"),
        ProblemKind.NotFound => (404, "not-found", "No such link"),
        ProblemKind.MethodNotAllowed => (405, "method-not-allowed", "Method not allowed"),
        ProblemKind.Gone => (410, "gone", "The link no longer redirects"),
        ProblemKind.AliasTaken => (409, "alias-taken", "The alias is already in use"),
        ProblemKind.Locked => (409, "locked", "A transaction holds the link"),
        ProblemKind.BatchConflict => (409, "batch-conflict", "Links of the batch conflict with links that exist"),
        ProblemKind.TransactionUnresolved => (503, "transaction-unresolved", "The transaction's outcome is not known yet"),
        ProblemKind.IdempotencyKeyReused => (422, "idempotency-key-reused", "The idempotency key was used with a different request"),
        ProblemKind.RateLimited => (429, "rate-limited", "Too many requests"),
        ProblemKind.NotReady => (503, "not-ready", "The node is not ready"),
        ProblemKind.NotLeader => (409, "not-leader", "This node does not lead the shard"),
        ProblemKind.NoQuorum => (503, "no-quorum", "The link's shard has no quorum reachable from this node"),
        ProblemKind.NoSuchMember => (404, "no-such-member", "No such cluster member"),
        ProblemKind.MembershipConflict => (409, "membership-conflict", "The change conflicts with the cluster's members"),
        ProblemKind.NoSuchKey => (404, "no-such-key", "No such API key"),
        ProblemKind.KeyConflict => (409, "key-conflict", "The change conflicts with the cluster's keys"),
        ProblemKind.ChangesExpired => (410, "changes-expired", "The position is older than the changes kept"),
        ProblemKind.NoSuchSink => (404, "no-such-sink", "No such sink"),
        ProblemKind.SinkExists => (409, "sink-exists", "A sink of that name exists"),
        ProblemKind.SinkUnreachable => (422, "sink-unreachable", "The sink cannot be reached"),
        ProblemKind.SinkConflict => (409, "sink-conflict", "The change conflicts with the cluster's sinks"),
        ProblemKind.ClicksUnavailable => (503, "clicks-unavailable", "Too few replicas of the click store answered"),
        ProblemKind.ClicksDisabled => (503, "clicks-disabled", "Click tracking is off on this node"),
        ProblemKind.Internal => (500, "internal", "Internal error"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string TypeUri(ProblemKind kind) => "urn:shortener:problem:" + Describe(kind).Slug;

    public static IResult Result(ProblemKind kind, string detail, IDictionary<string, object?>? extensions = null)
    {
        var (status, _, title) = Describe(kind);
        return Results.Problem(detail: detail, statusCode: status, title: title, type: TypeUri(kind), extensions: extensions);
    }

    public static Task Write(HttpContext context, ProblemKind kind, string detail, IDictionary<string, object?>? extensions = null)
    {
        var (status, _, title) = Describe(kind);
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        var body = new Dictionary<string, object?>
        {
            ["type"] = TypeUri(kind),
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["instance"] = context.Request.Path.Value,
        };
        if (System.Diagnostics.Activity.Current is { } activity)
        {
            body["traceId"] = activity.TraceId.ToString();
        }

        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            body[key] = value;
        }

        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), context.RequestAborted);
    }
}
