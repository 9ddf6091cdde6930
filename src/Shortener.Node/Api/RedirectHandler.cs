using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Shortener.Core.Links;
using Shortener.Node.Links;
using Shortener.Node.Shards;
using Shortener.Node.Observability;

namespace Shortener.Node.Api;

/// <summary>
/// GET and HEAD /{code}: the hot path, run as middleware ahead of routing, authentication and rate
/// limiting, none of which a redirect needs. A link without a visit limit is answered from the
/// cache with no disk access; a link with a limit records the visit first (GET only: HEAD, used by
/// link previews and crawlers, never uses up a visit). Every redirect's click goes to the click
/// pipeline before the response is sent (on the local outbox file in the modes that have one, so it
/// outlives a crash of the node; never waiting for the click store), so a redirect a client saw counts.
/// </summary>
public sealed class RedirectHandler(LinkService links, Clicks.ClickService clicks, ShortenerMetrics metrics, TimeProvider time)
{
    /// <summary>How stale the answer may be: milliseconds since this node's replica of the code's shard last knew it was caught up.</summary>
    public const string AppliedAgeHeader = "Shortener-Applied-Age-Ms";

    /// <summary>Middleware entry: answers requests for /{code}, passes everything else on.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var path = request.Path.Value;
        if (path is null || path.Length < 2 || path.IndexOf('/', 1) >= 0)
        {
            return next(context);
        }

        var code = path[1..];
        if (!LooksLikeCode(code) || AliasRules.Reserved.Contains(code))
        {
            // Not a code (the service's own paths are reserved words, never codes).
            return next(context);
        }

        if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            if (HttpMethods.IsOptions(request.Method))
            {
                return next(context);
            }

            // A short link exists only to be followed; it is changed under /api/v1/links.
            context.Response.Headers.Allow = "GET, HEAD";
            return Problems.Write(context, ProblemKind.MethodNotAllowed, $"{request.Method} is not allowed on a short link, which only redirects (GET, HEAD); manage it at /api/v1/links/{code}");
        }

        // Redirects are measured by shortener.redirect.duration, a histogram with one tag; the
        // hosting layer's six-tag request histogram would cost more than the redirect itself.
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } httpMetrics)
        {
            httpMetrics.MetricsDisabled = true;
        }

        return HandleAsync(context, code, Stopwatch.GetTimestamp());
    }

    private async Task HandleAsync(HttpContext context, string code, long start)
    {
        var shards = links.Shards;
        var shard = shards.Router.ShardOf(code);
        context.Response.Headers[AppliedAgeHeader] = shards.AppliedAgeHeader(shard);
        Link? link;
        try
        {
            link = links.Resolve(code, shard);
        }
        catch (ShardUnavailableException e)
        {
            metrics.Redirect(StatusCodes.Status503ServiceUnavailable, start);
            context.Response.Headers.RetryAfter = "1";
            await Problems.Write(context, ProblemKind.NoQuorum, e.Message);
            return;
        }

        if (link is null)
        {
            await NotFound(context, code, start);
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (link.StateAt(now) == LinkState.NotYetValid)
        {
            // As Shlink does: a link before its start is not there yet.
            await NotFound(context, code, start);
            return;
        }

        if (link.StateAt(now) != LinkState.Active)
        {
            await Gone(context, link, now, start);
            return;
        }

        if (link.MaxVisits is not null && HttpMethods.IsGet(context.Request.Method))
        {
            CommandResult result;
            try
            {
                result = await links.SubmitAsync(new RecordVisit(now, code), null, context.RequestAborted);
            }
            catch (ShardUnavailableException e)
            {
                // A visit-limited link counts every visit through its shard's quorum; without one it cannot redirect.
                metrics.Redirect(StatusCodes.Status503ServiceUnavailable, start);
                context.Response.Headers.RetryAfter = "1";
                await Problems.Write(context, ProblemKind.NoQuorum, $"the link '{code}' has a visit limit, and its visit cannot be counted now: {e.Reason}");
                return;
            }

            if (result.Outcome != CommandOutcome.Ok)
            {
                await Gone(context, result.Link ?? link, now, start);
                return;
            }

            link = result.Link!;
        }

        if (clicks.Enabled)
        {
            var request = context.Request;
            clicks.Record(link.Code, request.Method, request.Headers.UserAgent, request.Headers.Referer, request.Headers[clicks.Options.CountryHeader]);
        }

        var response = context.Response;
        response.StatusCode = link.RedirectStatus;
        response.Headers.Location = link.ForwardQuery ? WithQuery(link.Url, context.Request.QueryString) : link.Url;
        if (link.RedirectStatus is 302 or 307 || link.MaxVisits is not null || link.ExpiresAt is not null)
        {
            // Temporary or limited links must come back to us on every click.
            response.Headers.CacheControl = "private, no-store";
        }

        metrics.Redirect(link.RedirectStatus, start);
    }

    /// <summary>The target with the visitor's query string added to its own (Shlink's forwardQuery); the target's fragment stays last.</summary>
    internal static string WithQuery(string url, QueryString query)
    {
        if (!query.HasValue || query.Value!.Length <= 1)
        {
            return url;
        }

        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var (head, fragment) = hash < 0 ? (url, string.Empty) : (url[..hash], url[hash..]);
        var separator = head.Contains('?', StringComparison.Ordinal) ? (head.EndsWith('?') || head.EndsWith('&') ? string.Empty : "&") : "?";
        return head + separator + query.Value[1..] + fragment;
    }

    private static bool LooksLikeCode(string code)
    {
        if (code.Length is 0 or > AliasRules.MaxLength)
        {
            return false;
        }

        foreach (var c in code)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private Task NotFound(HttpContext context, string code, long start)
    {
        metrics.Redirect(StatusCodes.Status404NotFound, start);
        return Problems.Write(context, ProblemKind.NotFound, $"no link has the code '{code}'");
    }

    private Task Gone(HttpContext context, Link link, long now, long start)
    {
        metrics.Redirect(StatusCodes.Status410Gone, start);
        var reason = link.StateAt(now) switch
        {
            LinkState.Deleted => "was deleted",
            LinkState.Expired => "has expired",
            LinkState.Exhausted => "has reached its visit limit",
            _ => "no longer redirects",
        };
        context.Response.Headers[HeaderNames.CacheControl] = "private, no-store";
        return Problems.Write(context, ProblemKind.Gone, $"the link '{link.Code}' {reason}");
    }
}
