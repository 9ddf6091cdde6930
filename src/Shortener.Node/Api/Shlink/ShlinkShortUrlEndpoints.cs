using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Shortener.Core.Links;
using Shortener.Node.Hosting;
using Shortener.Node.Links;
using Shortener.Node.Security;

namespace Shortener.Node.Api.Shlink;

/// <summary>/rest/v3/short-urls: Shlink's short URL API over the same link service as /api/v1.</summary>
public static class ShlinkShortUrlEndpoints
{
    public const int DefaultItemsPerPage = 10;
    public const string ShortenPath = "/rest/v3/short-urls/shorten";

    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapGet("/short-urls", ListAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapPost("/short-urls", CreateAsync).RequireAuthorization(ApiKeyPolicies.Links);
        rest.MapGet(ShortenPath["/rest/v3".Length..], ShortenAsync).AllowAnonymous();
        rest.MapGet("/short-urls/{shortCode}", GetAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapPatch("/short-urls/{shortCode}", EditAsync).RequireAuthorization(ApiKeyPolicies.Links);
        rest.MapDelete("/short-urls/{shortCode}", DeleteAsync).RequireAuthorization(ApiKeyPolicies.Links);
        rest.MapGet("/short-urls/{shortCode}/redirect-rules", GetRulesAsync).RequireAuthorization(ApiKeyPolicies.ReadOnly);
        rest.MapMethods("/short-urls/{shortCode}/redirect-rules", ["POST", "PATCH"], SetRulesAsync).RequireAuthorization(ApiKeyPolicies.Links);
    }

    private static async Task<IResult> ListAsync(HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses)
    {
        var query = context.Request.Query;
        // Each short URL on a page has its visits read: a page holds at most as many as one request may read.
        if (ShlinkPage.Read(query, DefaultItemsPerPage, ShlinkVisits.MaxLinksRead) is not { } page)
        {
            return ShlinkProblems.Invalid("page", $"page and itemsPerPage must be whole numbers, and a page at most {ShlinkPage.MaxDepth} items deep");
        }

        var (from, fromProblem) = ShlinkRequest.Date(query, "startDate");
        var (to, toProblem) = ShlinkRequest.Date(query, "endDate");
        if ((fromProblem ?? toProblem) is { } dateProblem)
        {
            return dateProblem;
        }

        if (Mode(query, "tagsMode") is not { } allTags)
        {
            return ShlinkProblems.Invalid("tagsMode", "tagsMode must be any or all");
        }

        if (Mode(query, "excludeTagsMode") is not { } allExcluded)
        {
            return ShlinkProblems.Invalid("excludeTagsMode", "excludeTagsMode must be any or all");
        }

        if (Order(query["orderBy"].ToString()) is not { } order)
        {
            return ShlinkProblems.Invalid("orderBy", "orderBy must be one of longUrl, shortCode, dateCreated, title, visits, nonBotVisits, with -ASC or -DESC");
        }

        var domain = query["domain"].ToString();
        if (domain.Length > 0 && !IsDefaultDomain(domain, addresses))
        {
            // Only the default domain exists here: no link is on another.
            return Page([], page, 0);
        }

        var filter = new LinkQuery(
            SearchTerm: query["searchTerm"].ToString() is { Length: > 0 } term ? term : null,
            Tags: ShlinkRequest.Array(query, "tags"),
            AllTags: allTags,
            ExcludeTags: ShlinkRequest.Array(query, "excludeTags"),
            AllExcludeTags: allExcluded,
            CreatedFrom: from,
            CreatedTo: to,
            ExcludeMaxVisitsReached: ShlinkRequest.Flag(query, "excludeMaxVisitsReached"),
            ExcludeExpiredAt: ShlinkRequest.Flag(query, "excludePastValidUntil") ? links.NowMs : null,
            Owner: ApiKeyPolicies.OwnerOf(context.User),
            Order: order.Field ?? LinkOrder.DateCreated,
            Descending: order.Descending);

        if (order.ByVisits is { } nonBots)
        {
            // Visits are in the click store, not the link table: read every match's, then order.
            var all = await links.QueryAsync(filter, 0, ShlinkVisits.MaxLinksRead + 1);
            if (all.Total > ShlinkVisits.MaxLinksRead)
            {
                return ShlinkProblems.Invalid("orderBy", $"ordering by visits reads every matching short URL's visits, at most {ShlinkVisits.MaxLinksRead}; {all.Total} match: narrow the filter");
            }

            var counted = (await visits.SummariesAsync(all.Links, context.RequestAborted)).Select((v, i) => (Link: all.Links[i], Visits: v));
            var sorted = order.Descending
                ? counted.OrderByDescending(c => nonBots ? c.Visits.NonBots : c.Visits.Total).ThenByDescending(c => c.Link.Code, StringComparer.Ordinal)
                : counted.OrderBy(c => nonBots ? c.Visits.NonBots : c.Visits.Total).ThenBy(c => c.Link.Code, StringComparer.Ordinal);
            return Page([.. sorted.Skip(page.Skip).Take(page.ItemsPerPage).Select(c => ShlinkShortUrl.From(c.Link, addresses.PublicBaseUrl, c.Visits))], page, all.Total);
        }

        var found = await links.QueryAsync(filter, page.Skip, page.ItemsPerPage);
        var summaries = await visits.SummariesAsync(found.Links, context.RequestAborted);
        return Page([.. found.Links.Select((l, i) => ShlinkShortUrl.From(l, addresses.PublicBaseUrl, summaries[i]))], page, found.Total);
    }

    private static IResult Page(IReadOnlyList<ShlinkShortUrl> data, ShlinkPage page, int total) =>
        Results.Json(new { shortUrls = new ShlinkList<ShlinkShortUrl>(data, ShlinkPagination.Of(page, data.Count, total)) }, ShlinkJson.Options);

    private static async Task<IResult> CreateAsync(HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses, IOptions<NodeOptions> options)
    {
        var (document, problem) = await ShlinkRequest.ObjectAsync(context, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        using (document)
        {
            var body = document!.RootElement;
            if (ShlinkRequest.String(body, "domain") is { Value: { Length: > 0 } domain } && !IsDefaultDomain(domain, addresses))
            {
                return ShlinkProblems.Invalid("domain", $"this cluster serves one domain, {addresses.PublicAuthority}");
            }

            var fields = ShlinkLinkFields.Read(body, links.NowMs, addresses, creating: true);
            if (fields.Problem is not null)
            {
                return fields.Problem;
            }

            var slug = ShlinkRequest.String(body, "customSlug");
            var prefix = ShlinkRequest.String(body, "pathPrefix");
            var findIfExists = ShlinkRequest.Bool(body, "findIfExists");
            if ((slug.Problem ?? prefix.Problem ?? findIfExists.Problem) is { } fieldProblem)
            {
                return fieldProblem;
            }

            string? alias = null;
            if (slug.Value is { Length: > 0 } || prefix.Value is { Length: > 0 })
            {
                if (slug.Value is not { Length: > 0 })
                {
                    return ShlinkProblems.Invalid("pathPrefix", "pathPrefix needs a customSlug here: generated codes take no prefix");
                }

                var checkedAlias = AliasRules.Validate((prefix.Value ?? string.Empty) + slug.Value.Trim().Replace(' ', '-'));
                if (!checkedAlias.IsValid)
                {
                    return ShlinkProblems.Invalid("customSlug", checkedAlias.Error!);
                }

                alias = checkedAlias.Value;
            }

            var owner = ApiKeyPolicies.OwnerOf(context.User);
            var patch = fields.Patch!;
            if (findIfExists.Value == true && await FindMatchAsync(links, patch, alias, owner) is { } existing)
            {
                var summary = (await visits.SummariesAsync([existing], context.RequestAborted))[0];
                return Results.Json(ShlinkShortUrl.From(existing, addresses.PublicBaseUrl, summary), ShlinkJson.Options);
            }

            var command = new CreateLink(
                links.NowMs,
                alias ?? string.Empty,
                patch.Url!,
                patch.ExpiresAt,
                patch.MaxVisits,
                LinkFieldRules.DefaultRedirectStatus,
                patch.Tags ?? [],
                patch.Title,
                Generated: alias is null,
                ValidSince: patch.ValidSince,
                Crawlable: patch.Crawlable ?? false,
                ForwardQuery: patch.ForwardQuery ?? true,
                Owner: owner);
            var result = await links.CreateAsync(command, null, context.RequestAborted);
            return result.Outcome switch
            {
                CommandOutcome.Created => Results.Json(ShlinkShortUrl.From(result.Link!, addresses.PublicBaseUrl, ShlinkVisitsSummary.Empty), ShlinkJson.Options),
                CommandOutcome.Conflict when alias is not null => ShlinkProblems.Result(
                    ShlinkProblemKind.NonUniqueSlug,
                    $"Provided slug \"{alias}\" is already in use.",
                    new Dictionary<string, object?> { ["customSlug"] = alias }),
                _ => ShlinkProblems.Result(ShlinkProblemKind.Internal, "no free code could be drawn; try again"),
            };
        }
    }

    /// <summary>
    /// findIfExists: the oldest live link to the same URL that also agrees on the slug, visit limit,
    /// dates and exact tag set where the request gives them (as Shlink matches; title, crawlable and
    /// forwardQuery are not compared), among the first <see cref="ShlinkVisits.MaxLinksRead"/> to
    /// that URL the key may see.
    /// </summary>
    private static async Task<Link?> FindMatchAsync(LinkService links, LinkPatch asked, string? alias, string? owner)
    {
        var same = await links.QueryAsync(new LinkQuery(Url: asked.Url, Owner: owner, Descending: false), 0, ShlinkVisits.MaxLinksRead);
        return same.Links.FirstOrDefault(l =>
            (alias is null || l.Code == alias)
            && (asked.MaxVisits is null || l.MaxVisits == asked.MaxVisits)
            && (asked.ValidSince is null || l.ValidSince == asked.ValidSince)
            && (asked.ExpiresAt is null || l.ExpiresAt == asked.ExpiresAt)
            && (asked.Tags is null || l.Tags.Order(StringComparer.Ordinal).SequenceEqual(asked.Tags.Order(StringComparer.Ordinal), StringComparer.Ordinal)));
    }

    /// <summary>GET /short-urls/shorten?apiKey=&amp;longUrl=&amp;format=json|txt: Shlink's one-step create, the key in the query.</summary>
    private static async Task<IResult> ShortenAsync(HttpContext context, LinkService links, ApiKeyRegistry keys, NodeAddresses addresses, Observability.ShortenerMetrics metrics)
    {
        // Rate limited per client network as a write without a key (ShortenerNodeApp.Partition); refusals counted as the handler's.
        var query = context.Request.Query;
        if (query["apiKey"].ToString() is not { Length: > 0 } presented)
        {
            metrics.AuthenticationRefused("no-key");
            return ShlinkProblems.Result(
                ShlinkProblemKind.MissingAuthentication,
                "Expected authentication to be provided in \"apiKey\" query param",
                new Dictionary<string, object?> { ["param"] = "apiKey" });
        }

        if (keys.Identify(presented) is not { } key)
        {
            metrics.AuthenticationRefused("invalid-key");
            return ShlinkProblems.Result(ShlinkProblemKind.InvalidApiKey, "Provided API key does not exist or is invalid.");
        }

        if (key.Role < ApiKeyRole.Links)
        {
            metrics.AuthenticationRefused("forbidden");
            return ShlinkProblems.Result(ShlinkProblemKind.Forbidden, $"this API key has the role {ApiKeyRoles.Name(key.Role)}; creating short URLs needs links");
        }

        var url = addresses.TargetRules.Validate(query["longUrl"].ToString());
        if (!url.IsValid)
        {
            return ShlinkProblems.Invalid("longUrl", url.Error!);
        }

        var command = new CreateLink(links.NowMs, string.Empty, url.Value!, null, null, LinkFieldRules.DefaultRedirectStatus, [], null, Generated: true, ForwardQuery: true, Owner: key.Owner);
        var result = await links.CreateAsync(command, null, context.RequestAborted);
        if (result.Outcome != CommandOutcome.Created)
        {
            return ShlinkProblems.Result(ShlinkProblemKind.Internal, "no free code could be drawn; try again");
        }

        var shortUrl = ShlinkShortUrl.From(result.Link!, addresses.PublicBaseUrl, ShlinkVisitsSummary.Empty);
        var text = query["format"] == "txt" || (query["format"].Count == 0 && context.Request.Headers.Accept.ToString().Split(',')[0].Contains("text/plain", StringComparison.Ordinal));
        return text ? Results.Text(shortUrl.ShortUrl, "text/plain") : Results.Json(shortUrl, ShlinkJson.Options);
    }

    private static async Task<IResult> GetAsync(string shortCode, HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses)
    {
        if (await FindAsync(shortCode, context, links, addresses) is not { } link)
        {
            return NotFound(shortCode, context);
        }

        var summary = (await visits.SummariesAsync([link], context.RequestAborted))[0];
        return Results.Json(ShlinkShortUrl.From(link, addresses.PublicBaseUrl, summary), ShlinkJson.Options);
    }

    private static async Task<IResult> EditAsync(string shortCode, HttpContext context, LinkService links, ShlinkVisits visits, NodeAddresses addresses, IOptions<NodeOptions> options)
    {
        var (document, problem) = await ShlinkRequest.ObjectAsync(context, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        LinkPatch patch;
        using (document)
        {
            var fields = ShlinkLinkFields.Read(document!.RootElement, links.NowMs, addresses, creating: false);
            if (fields.Problem is not null)
            {
                return fields.Problem;
            }

            patch = fields.Patch!;
        }

        if (!IsDefaultDomain(context.Request.Query["domain"].ToString(), addresses))
        {
            return NotFound(shortCode, context);
        }

        var result = patch.IsEmpty
            ? new CommandResult(CommandOutcome.Ok, await FindAsync(shortCode, context, links, addresses))
            : await links.SubmitAsync(new UpdateLink(links.NowMs, shortCode, patch, ApiKeyPolicies.OwnerOf(context.User)), null, context.RequestAborted);
        if (result.Outcome != CommandOutcome.Ok || result.Link is not { Deleted: false } link)
        {
            return NotFound(shortCode, context);
        }

        var summary = (await visits.SummariesAsync([link], context.RequestAborted))[0];
        return Results.Json(ShlinkShortUrl.From(link, addresses.PublicBaseUrl, summary), ShlinkJson.Options);
    }

    private static async Task<IResult> DeleteAsync(string shortCode, HttpContext context, LinkService links, NodeAddresses addresses)
    {
        if (await FindAsync(shortCode, context, links, addresses) is null)
        {
            return NotFound(shortCode, context);
        }

        var result = await links.SubmitAsync(new DeleteLink(links.NowMs, shortCode, ApiKeyPolicies.OwnerOf(context.User)), null, context.RequestAborted);
        return result.Outcome == CommandOutcome.Ok ? Results.NoContent() : NotFound(shortCode, context);
    }

    private static async Task<IResult> GetRulesAsync(string shortCode, HttpContext context, LinkService links, NodeAddresses addresses) =>
        await FindAsync(shortCode, context, links, addresses) is { } link
            ? Results.Json(new { defaultLongUrl = link.Url, redirectRules = System.Array.Empty<object>() }, ShlinkJson.Options)
            : NotFound(shortCode, context);

    /// <summary>Redirect rules do not exist here: setting none is the state already, any rule is refused.</summary>
    private static async Task<IResult> SetRulesAsync(string shortCode, HttpContext context, LinkService links, NodeAddresses addresses, IOptions<NodeOptions> options)
    {
        var (document, problem) = await ShlinkRequest.ObjectAsync(context, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        using (document)
        {
            var none = document!.RootElement.TryGetProperty("redirectRules", out var rules) && rules.ValueKind == JsonValueKind.Array && rules.GetArrayLength() == 0;
            if (!none)
            {
                return ShlinkProblems.Result(ShlinkProblemKind.NotSupported, "this cluster has no redirect rules: every visitor goes to the long URL");
            }
        }

        return await GetRulesAsync(shortCode, context, links, addresses);
    }

    /// <summary>A live link the key may see, read linearizably; null otherwise (deleted, another owner's, another domain).</summary>
    internal static async Task<Link?> FindAsync(string shortCode, HttpContext context, LinkService links, NodeAddresses addresses)
    {
        if (!IsDefaultDomain(context.Request.Query["domain"].ToString(), addresses))
        {
            return null;
        }

        var link = await links.GetLinearizableAsync(shortCode, context.RequestAborted);
        return link is { Deleted: false } && link.VisibleTo(ApiKeyPolicies.OwnerOf(context.User)) ? link : null;
    }

    internal static IResult NotFound(string shortCode, HttpContext context)
    {
        var domain = context.Request.Query["domain"].ToString();
        var fields = new Dictionary<string, object?> { ["shortCode"] = shortCode };
        if (domain.Length > 0)
        {
            fields["domain"] = domain;
        }

        return ShlinkProblems.Result(ShlinkProblemKind.ShortUrlNotFound, $"No URL found with short code \"{shortCode}\"" + (domain.Length > 0 ? $" for domain \"{domain}\"" : string.Empty), fields);
    }

    /// <summary>No domain, DEFAULT, or this cluster's own authority (its public base URL's).</summary>
    internal static bool IsDefaultDomain(string domain, NodeAddresses addresses) =>
        domain.Length == 0
        || string.Equals(domain, "DEFAULT", StringComparison.Ordinal)
        || string.Equals(domain, addresses.PublicAuthority, StringComparison.OrdinalIgnoreCase);

    private static bool? Mode(IQueryCollection query, string name) => query[name].ToString() switch
    {
        "" or "any" => false,
        "all" => true,
        _ => null,
    };

    private sealed record Ordering(LinkOrder? Field, bool? ByVisits, bool Descending);

    /// <summary><c>field-ASC|DESC</c> (a field alone is ascending); none is newest first.</summary>
    private static Ordering? Order(string text)
    {
        if (text.Length == 0)
        {
            return new Ordering(LinkOrder.DateCreated, null, Descending: true);
        }

        var dash = text.LastIndexOf('-');
        var (field, direction) = dash < 0 ? (text, "ASC") : (text[..dash], text[(dash + 1)..]);
        if (direction is not ("ASC" or "DESC"))
        {
            return null;
        }

        var descending = direction == "DESC";
        return field switch
        {
            "dateCreated" => new Ordering(LinkOrder.DateCreated, null, descending),
            "shortCode" => new Ordering(LinkOrder.ShortCode, null, descending),
            "longUrl" => new Ordering(LinkOrder.LongUrl, null, descending),
            "title" => new Ordering(LinkOrder.Title, null, descending),
            "visits" => new Ordering(null, false, descending),
            "nonBotVisits" => new Ordering(null, true, descending),
            _ => null,
        };
    }
}
