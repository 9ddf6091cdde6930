using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shortener.Node.Api;

namespace Shortener.Node.Security;

/// <summary>
/// Authenticates a request by its X-Api-Key header, or a GET or HEAD by HTTP Basic with the key as
/// the password (any user name), which is how a browser opens the dashboard. A refusal is an RFC
/// 9457 problem that also offers Basic, so that a browser asks for the key. Basic is for reads only:
/// a browser replays Basic credentials on its own, and another site could make it send a write.
/// A refusal is counted (shortener.auth.refused, by reason) and logged at Debug only: anyone can
/// send bad keys, and a thousand of them must not fill the log (the base class's own Information
/// lines are filtered out, <see cref="Hosting.ShortenerNodeApp"/>).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry keys,
    Observability.ShortenerMetrics metrics) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyIdClaim = "shortener:key-id";
    public const string RoleClaim = "shortener:role";
    public const string OwnerClaim = "shortener:owner";

    /// <summary>The category of this handler's own log lines (the base class logs under the handler's type name).</summary>
    public const string LogCategory = "Shortener.Node.Security.Authentication";

    private readonly ILogger _refusals = logger.CreateLogger(LogCategory);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented;
        if (Request.Headers.TryGetValue(ApiKeyRegistry.HeaderName, out var values))
        {
            presented = values.ToString();
        }
        else if ((HttpMethods.IsGet(Request.Method) || HttpMethods.IsHead(Request.Method)) && BasicPassword(Request.Headers.Authorization.ToString()) is { } password)
        {
            presented = password;
        }
        else
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (keys.Identify(presented) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid API key"));
        }

        List<Claim> claims = [new(KeyIdClaim, key.Id), new(RoleClaim, ApiKeyRoles.Name(key.Role))];
        if (key.Owner is not null)
        {
            claims.Add(new Claim(OwnerClaim, key.Owner));
        }

        var identity = new ClaimsIdentity(claims, SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var present = Request.Headers.ContainsKey(ApiKeyRegistry.HeaderName) || BasicPassword(Request.Headers.Authorization.ToString()) is not null;
        metrics.AuthenticationRefused(present ? "invalid-key" : "no-key");
        _refusals.LogDebug("Refused {Method} {Path} from {Client}: {Reason}", Request.Method, Request.Path, Context.Connection.RemoteIpAddress, present ? "invalid API key" : "no API key");
        if (Api.Shlink.ShlinkProblems.Applies(Request))
        {
            return present
                ? Api.Shlink.ShlinkProblems.Write(Context, Api.Shlink.ShlinkProblemKind.InvalidApiKey, "Provided API key does not exist or is invalid.")
                : Api.Shlink.ShlinkProblems.Write(
                    Context,
                    Api.Shlink.ShlinkProblemKind.MissingAuthentication,
                    "Expected one of the following authentication headers, [\"X-Api-Key\"], but none were provided",
                    new Dictionary<string, object?> { ["expectedHeaders"] = new[] { ApiKeyRegistry.HeaderName } });
        }

        Response.Headers.WWWAuthenticate = "Basic realm=\"Shortener\", charset=\"UTF-8\"";
        return Problems.Write(
            Context,
            ProblemKind.Unauthorized,
            present ? "The API key presented (X-Api-Key header, or the password of HTTP Basic on a GET) is not valid." : "This endpoint needs an API key in the X-Api-Key header (or, on a GET, as the password of HTTP Basic).");
    }

    /// <summary>The password of an <c>Authorization: Basic</c> header, or null when the header is absent or not Basic.</summary>
    internal static string? BasicPassword(string authorization)
    {
        const string Scheme = "Basic ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length > 1024)
        {
            return null;
        }

        Span<byte> decoded = stackalloc byte[768];
        if (!Convert.TryFromBase64String(authorization[Scheme.Length..].Trim(), decoded, out var length))
        {
            return null;
        }

        var text = System.Text.Encoding.UTF8.GetString(decoded[..length]);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : text[(colon + 1)..];
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        metrics.AuthenticationRefused("forbidden");
        _refusals.LogDebug("Forbade {Method} {Path} to key {Key}", Request.Method, Request.Path, Context.User.FindFirstValue(KeyIdClaim));
        var needs = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().LastOrDefault()?.Policy;
        var detail = $"This API key has the role {Context.User.FindFirstValue(RoleClaim) ?? "none"}; this endpoint needs {needs ?? "another role"} (roles: admin > links > read-only).";
        return Api.Shlink.ShlinkProblems.Applies(Request)
            ? Api.Shlink.ShlinkProblems.Write(Context, Api.Shlink.ShlinkProblemKind.Forbidden, detail)
            : Problems.Write(Context, ProblemKind.Forbidden, detail);
    }
}
