using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Core.Links;
using Shortener.Node.Links;

namespace Shortener.Node.Api;

/// <summary>
/// /robots.txt, as Shlink writes it: search engines may follow the crawlable links (a link's
/// <c>crawlable</c>) and nothing else. Made from this node's replicas, at most
/// <see cref="MaxLinks"/> links, and kept for a minute: crawlers ask often and nobody needs it fresher.
/// </summary>
public sealed class RobotsEndpoint(LinkService links, TimeProvider time)
{
    public const int MaxLinks = 10_000;
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(1);

    private (string Text, DateTimeOffset Made)? _kept;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/robots.txt", (RobotsEndpoint robots) => robots.GetAsync()).ExcludeFromDescription();

    private async Task<IResult> GetAsync()
    {
        var now = time.GetUtcNow();
        if (_kept is not { } kept || now - kept.Made > Keep)
        {
            var crawlable = await links.QueryAsync(new LinkQuery(CrawlableOnly: true, Order: LinkOrder.ShortCode, Descending: false), 0, MaxLinks);
            var text = new StringBuilder("# For more information about the robots.txt standard, see:\n# https://www.robotstxt.org/orig.html\n\nUser-agent: *\n");
            foreach (var link in crawlable.Links)
            {
                text.Append("Allow: /").Append(link.Code).Append('\n');
            }

            kept = (text.Append("Disallow: /\n").ToString(), now);
            _kept = kept;
        }

        return Results.Text(kept.Text, "text/plain", Encoding.UTF8);
    }
}
