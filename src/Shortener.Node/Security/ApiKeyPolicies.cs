using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace Shortener.Node.Security;

/// <summary>
/// One authorization policy per <see cref="ApiKeyRole"/>, named as the role: an endpoint asks for
/// the least role it needs (<c>RequireAuthorization(ApiKeyPolicies.Links)</c>) and every higher
/// role passes. A key without a role claim passes none.
/// </summary>
public static class ApiKeyPolicies
{
    public const string Admin = ApiKeyRoles.Admin;
    public const string Links = ApiKeyRoles.Links;
    public const string ReadOnly = ApiKeyRoles.ReadOnly;

    public static void Add(AuthorizationOptions options)
    {
        foreach (var role in Enum.GetValues<ApiKeyRole>())
        {
            options.AddPolicy(ApiKeyRoles.Name(role), policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => RoleOf(context.User) >= role));
        }
    }

    /// <summary>The role of the key that authenticated <paramref name="user"/>, or null.</summary>
    public static ApiKeyRole? RoleOf(ClaimsPrincipal user) => ApiKeyRoles.Parse(user.FindFirstValue(ApiKeyAuthenticationHandler.RoleClaim));

    /// <summary>The owner a links key is limited to, or null when it sees every link.</summary>
    public static string? OwnerOf(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthenticationHandler.OwnerClaim);
}
