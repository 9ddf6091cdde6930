using System.Globalization;

namespace Shortener.Cli.Commands;

/// <summary>Reads --expires: an ISO 8601 date-time (2030-01-31T12:00:00Z) or a duration from now (90m, 12h, 7d, 2w).</summary>
public static class ExpiryParser
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        expiresAt = default;
        text = text.Trim();
        if (text.Length >= 2 && char.IsAsciiLetter(text[^1]) && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            if (amount is <= 0 or >= 100_000)
            {
                return false;
            }

            TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => null,
            };
            if (span is { } s)
            {
                expiresAt = now + s;
                return true;
            }

            return false;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out expiresAt);
    }
}
