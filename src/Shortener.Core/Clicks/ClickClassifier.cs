namespace Shortener.Core.Clicks;

/// <summary>
/// What the redirect path can tell about a click from the request alone: bot or human (HEAD
/// requests, and user agents of known crawlers, link unfurlers and HTTP libraries), and the
/// referring host.
/// </summary>
public static class ClickClassifier
{
    // Lower-case fragments of user agents that are not people following a link. A bare "bot" would
    // also match phone brands (CUBOT); crawlers name themselves "...bot/2.1", "...bot;" and so on.
    private static readonly string[] BotMarkers =
    [
        "bot/", "bot;", "bot)", "bot-", "_bot", "crawler", "spider", "slurp", "facebookexternalhit", "embedly", "preview",
        "curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "java/", "okhttp", "headless",
    ];

    public static ClickKind Classify(string method, string? userAgent)
    {
        if (string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase) || string.IsNullOrWhiteSpace(userAgent))
        {
            return ClickKind.Bot;
        }

        var agent = userAgent.ToLowerInvariant();
        return BotMarkers.Any(agent.Contains) ? ClickKind.Bot : ClickKind.Human;
    }

    /// <summary>The host of a Referer header (lower case, no "www."), or null when absent or not an http(s) URL.</summary>
    public static string? ReferrerHost(string? referer)
    {
        if (string.IsNullOrEmpty(referer) || !Uri.TryCreate(referer, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        var host = uri.IdnHost.ToLowerInvariant();
        host = host.StartsWith("www.", StringComparison.Ordinal) ? host[4..] : host;
        return host.Length is 0 or > ClickEvent.MaxReferrerLength ? null : host;
    }

    /// <summary>An ISO 3166-1 alpha-2 code from a trusted header (CF-IPCountry and the like), or null.</summary>
    public static string? Country(string? header) =>
        header is { Length: 2 } h && char.IsAsciiLetter(h[0]) && char.IsAsciiLetter(h[1]) && !h.Equals("XX", StringComparison.OrdinalIgnoreCase)
            ? h.ToUpperInvariant()
            : null;
}
