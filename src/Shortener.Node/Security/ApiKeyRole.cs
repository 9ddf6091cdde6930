namespace Shortener.Node.Security;

/// <summary>
/// What a key may do. Ordered: each role may everything the one before it may, so an endpoint
/// names the least role it needs.
/// </summary>
public enum ApiKeyRole
{
    /// <summary>Read links and their stats.</summary>
    ReadOnly,

    /// <summary>Also create, change and delete links (with an owner: only the owner's links).</summary>
    Links,

    /// <summary>Also the cluster: members, faults, keys, the journal and the dashboard.</summary>
    Admin,
}

/// <summary>The names of <see cref="ApiKeyRole"/> in the API, the CLI and the stored key list.</summary>
public static class ApiKeyRoles
{
    public const string ReadOnly = "read-only";
    public const string Links = "links";
    public const string Admin = "admin";

    public static IReadOnlyList<string> Names { get; } = [Admin, Links, ReadOnly];

    public static string Name(ApiKeyRole role) => role switch
    {
        ApiKeyRole.ReadOnly => ReadOnly,
        ApiKeyRole.Links => Links,
        ApiKeyRole.Admin => Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static ApiKeyRole? Parse(string? name) => name switch
    {
        ReadOnly => ApiKeyRole.ReadOnly,
        Links => ApiKeyRole.Links,
        Admin => ApiKeyRole.Admin,
        _ => null,
    };
}
