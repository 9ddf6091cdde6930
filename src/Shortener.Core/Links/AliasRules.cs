using System.Collections.Frozen;

namespace Shortener.Core.Links;

/// <summary>
/// Custom aliases: 3–64 characters of [A-Za-z0-9_-], case-sensitive, and not a word the service
/// uses for its own paths (compared case-insensitively, because routes match that way).
/// </summary>
public static class AliasRules
{
    public const int MinLength = 3;
    public const int MaxLength = 64;

    public static readonly FrozenSet<string> Reserved = new[]
    {
        "api", "admin", "metrics", "healthz", "readyz", "livez", "health", "openapi", "swagger",
        "dashboard", "static", "assets", "public", "docs", "login", "logout", "signin", "signout",
        "auth", "oauth", "account", "settings", "status", "stats", "internal", "debug", "grpc",
        "well-known", "robots", "favicon", "sitemap", "links", "raft", "cluster", "node", "nodes", "rest", "app",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static ValidationResult<string> Validate(string? alias)
    {
        if (alias is null || alias.Length == 0)
        {
            return ValidationResult<string>.Fail("alias must not be empty");
        }

        if (alias.Length < MinLength || alias.Length > MaxLength)
        {
            return ValidationResult<string>.Fail($"alias must be {MinLength} to {MaxLength} characters long, got {alias.Length}");
        }

        for (var i = 0; i < alias.Length; i++)
        {
            var c = alias[i];
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-';
            if (!ok)
            {
                return ValidationResult<string>.Fail($"alias may contain only letters A-Z and a-z, digits, '_' and '-'; found '{Printable(c)}' at position {i + 1}");
            }
        }

        if (Reserved.Contains(alias))
        {
            return ValidationResult<string>.Fail($"alias '{alias}' is reserved");
        }

        return ValidationResult<string>.Ok(alias);
    }

    internal static string Printable(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : c.ToString();
}
