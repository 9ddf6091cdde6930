namespace Shortener.Core.Links;

/// <summary>Rules for the plain link fields a client sends, checked before a command is proposed.</summary>
public static class LinkFieldRules
{
    public const int DefaultRedirectStatus = 302;
    public const int MaxTags = 16;
    public const int MaxTagLength = 32;
    public const int MaxTitleLength = 256;

    public static readonly IReadOnlyList<int> RedirectStatuses = [301, 302, 307, 308];

    public static ValidationResult<int> RedirectStatus(int? status)
    {
        var value = status ?? DefaultRedirectStatus;
        return RedirectStatuses.Contains(value)
            ? ValidationResult<int>.Ok(value)
            : ValidationResult<int>.Fail($"redirectStatus must be one of 301, 302, 307, 308, got {value}");
    }

    public static ValidationResult<long> MaxVisits(long value) =>
        value >= 1
            ? ValidationResult<long>.Ok(value)
            : ValidationResult<long>.Fail($"maxVisits must be at least 1, got {value}");

    /// <summary>An expiry must lie in the future of the request.</summary>
    public static ValidationResult<long> ExpiresAt(long expiresAtMs, long nowMs) =>
        expiresAtMs > nowMs
            ? ValidationResult<long>.Ok(expiresAtMs)
            : ValidationResult<long>.Fail("expiresAt must be in the future");

    public static ValidationResult<string> Title(string title)
    {
        if (title.Length > MaxTitleLength)
        {
            return ValidationResult<string>.Fail($"title must be at most {MaxTitleLength} characters");
        }

        if (title.Any(char.IsControl))
        {
            return ValidationResult<string>.Fail("title must not contain control characters");
        }

        return ValidationResult<string>.Ok(title);
    }

    /// <summary>Tags: at most 16, each 1–32 of [A-Za-z0-9_.:-]; duplicates dropped, order kept.</summary>
    public static ValidationResult<IReadOnlyList<string>> Tags(IEnumerable<string?>? tags)
    {
        var result = new List<string>();
        foreach (var tag in tags ?? [])
        {
            if (string.IsNullOrEmpty(tag) || tag.Length > MaxTagLength)
            {
                return ValidationResult<IReadOnlyList<string>>.Fail($"each tag must be 1 to {MaxTagLength} characters");
            }

            if (!tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'))
            {
                return ValidationResult<IReadOnlyList<string>>.Fail($"tag '{tag}' may contain only letters, digits, '_', '-', '.' and ':'");
            }

            if (!result.Contains(tag, StringComparer.Ordinal))
            {
                result.Add(tag);
            }
        }

        if (result.Count > MaxTags)
        {
            return ValidationResult<IReadOnlyList<string>>.Fail($"a link may have at most {MaxTags} tags");
        }

        return ValidationResult<IReadOnlyList<string>>.Ok(result);
    }
}
