using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Shortener.Core.Links;
using Shortener.Node.Links;
using Shortener.Node.Observability;

namespace Shortener.Node.Api;

/// <summary>
/// GET and HEAD /{code}: the hot path. A link without a visit limit is answered from the cache with
/// no disk and no allocation beyond the response; a link with a limit records the visit first
/// (GET only: HEAD, used by link previews and crawlers, never uses up a visit).
/// </summary>
public sealed class RedirectHandler(LinkService links, ShortenerMetrics metrics, TimeProvider time)
{
    public async Task HandleAsync(HttpContext context)
    {
        var code = context.Request.RouteValues["code"] as string;
        if (code is null || !LooksLikeCode(code))
        {
            await NotFound(context, code ?? string.Empty);
            return;
        }

        var link = links.Resolve(code);
        if (link is null)
        {
            await NotFound(context, code);
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (link.StateAt(now) != LinkState.Active)
        {
            await Gone(context, link, now);
            return;
        }

        if (link.MaxVisits is not null && HttpMethods.IsGet(context.Request.Method))
        {
            var result = await links.SubmitAsync(new RecordVisit(now, code), null, context.RequestAborted);
            if (result.Outcome != CommandOutcome.Ok)
            {
                await Gone(context, result.Link ?? link, now);
                return;
            }

            link = result.Link!;
        }

        var response = context.Response;
        response.StatusCode = link.RedirectStatus;
        response.Headers.Location = link.Url;
        if (link.RedirectStatus is 302 or 307 || link.MaxVisits is not null || link.ExpiresAt is not null)
        {
            // Temporary or limited links must come back to us on every click.
            response.Headers.CacheControl = "private, no-store";
        }

        metrics.Redirect(link.RedirectStatus);
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

    private Task NotFound(HttpContext context, string code)
    {
        metrics.Redirect(StatusCodes.Status404NotFound);
        return Problems.Write(context, ProblemKind.NotFound, $"no link has the code '{code}'");
    }

    private Task Gone(HttpContext context, Link link, long now)
    {
        metrics.Redirect(StatusCodes.Status410Gone);
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
