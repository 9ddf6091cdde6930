using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Observability;

/// <summary>
/// Gives every API request an <see cref="Activity"/> (continuing the caller's W3C traceparent when
/// there is one) so its log lines and problem bodies carry a trace id, without paying for the
/// hosting layer's per-request activity and log scope on the redirect path. When OpenTelemetry
/// tracing is on, the hosting activity already exists and this does nothing.
/// </summary>
public static class RequestActivityMiddleware
{
    public const string ActivityName = "Shortener.Request";

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (Activity.Current is not null)
        {
            return next(context);
        }

        return RunAsync(context, next);
    }

    private static async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        using var activity = new Activity(ActivityName);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        if (context.Request.Headers.TryGetValue("traceparent", out var traceparent)
            && ActivityContext.TryParse(traceparent.ToString(), context.Request.Headers.TraceState.ToString(), out var parent))
        {
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        }

        activity.Start();
        await next(context);
    }
}
