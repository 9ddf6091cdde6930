using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

internal static class LinkFactory
{
    public static CreateLink Create(string code, long at = 1_000, string url = "https://example.com/", long? expiresAt = null, long? maxVisits = null, IReadOnlyList<string>? tags = null) =>
        new(at, code, url, expiresAt, maxVisits, 302, tags ?? [], null);
}
