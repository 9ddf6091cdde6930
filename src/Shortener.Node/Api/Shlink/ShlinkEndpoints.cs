using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Hosting;
using Shortener.Node.Security;
using Shortener.Node.Shards;

namespace Shortener.Node.Api.Shlink;

/// <summary>
/// Shlink's REST API v3 under /rest/v3 (and health under /rest/health), so Shlink's web client, its
/// JS SDK and the tools built on them work against the cluster. The same services as /api/v1 are
/// underneath; docs/shlink-compatibility.md lists what is supported. Browsers on other origins may
/// call it (CORS, as Shlink allows any origin; keys travel in a header, never cookies).
/// </summary>
public static class ShlinkEndpoints
{
    /// <summary>The Shlink version this API matches (clients switch features on by it).</summary>
    public const string CompatibleVersion = "4.4.0";

    public const string CorsPolicy = "shlink";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/rest/health", Health).AllowAnonymous().RequireCors(CorsPolicy);
        var rest = app.MapGroup("/rest/v3").WithTags("shlink").RequireCors(CorsPolicy).AddEndpointFilter(AnswerUnavailable).ExcludeFromDescription();
        rest.MapGet("/health", Health).AllowAnonymous();
        rest.MapGet("/domains", Domains).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapPatch("/domains/redirects", () => ShlinkProblems.Result(ShlinkProblemKind.NotSupported, "this cluster has no not-found redirects to configure: an unknown code answers 404"))
            .RequireAuthorization(ApiKeyPolicies.Admin);
        rest.MapGet("/mercure-info", () => ShlinkProblems.Result(ShlinkProblemKind.MercureNotConfigured, "This Shlink instance is not integrated with a mercure hub."))
            .RequireAuthorization(ApiKeyPolicies.ReadOnly);
        ShlinkShortUrlEndpoints.Map(rest);
        ShlinkVisitEndpoints.Map(rest);
        ShlinkTagEndpoints.Map(rest);
    }

    /// <summary>pass, with the version clients read; fail (503) while a shard replica of this node is stopped.</summary>
    private static IResult Health(ShardHost shards)
    {
        var ok = shards.Replicas.All(r => !r.Status.Failed);
        var body = new
        {
            status = ok ? "pass" : "fail",
            version = CompatibleVersion,
            links = new { about = "https://shlink.io", project = "https://github.com/shlinkio/shlink" },
        };
        return Results.Json(body, ShlinkJson.Options, "application/health+json", ok ? 200 : 503);
    }

    private static IResult Domains(NodeAddresses addresses)
    {
        var none = new { baseUrlRedirect = (string?)null, regular404Redirect = (string?)null, invalidShortUrlRedirect = (string?)null };
        var domain = new { domain = addresses.PublicAuthority, isDefault = true, redirects = none };
        return Results.Json(new { domains = new { data = new[] { domain }, defaultRedirects = none } }, ShlinkJson.Options);
    }

    /// <summary>A shard without quorum or an unreadable click store becomes a 503 problem (Shlink has no type for them: ours).</summary>
    private static async ValueTask<object?> AnswerUnavailable(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ShardUnavailableException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return ShlinkProblems.Result(ShlinkProblemKind.NoQuorum, e.Message, new Dictionary<string, object?> { ["shard"] = e.Shard });
        }
        catch (VisitsUnavailableException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return ShlinkProblems.Result(ShlinkProblemKind.ClicksUnavailable, e.Message);
        }
        catch (Links.LinkLockedException e)
        {
            // Shlink has no type for it: ours, as the link API answers it.
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return Problems.Result(ProblemKind.Locked, e.Message, new Dictionary<string, object?> { ["code"] = e.Code, ["transaction"] = e.Transaction });
        }
    }
}
