using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Shortener.Core.Links;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Observability;
using Shortener.Node.Shards;
using Shortener.Node.Links;
using Shortener.Node.Security;

namespace Shortener.Node.Api;

/// <summary>The link API under /api/v1/links.</summary>
public static class LinkEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxListLimit = 1000;
    private const int DefaultListLimit = 50;

    public static void Map(IEndpointRouteBuilder app)
    {
        var links = app.MapGroup("/api/v1/links").WithTags("links").AddEndpointFilter(AnswerNoQuorum);

        links.MapPost("", CreateAsync)
            .RequireAuthorization(ApiKeyPolicies.Links)
            .WithName("CreateLink")
            .WithSummary("Create a short link")
            .Accepts<CreateLinkRequest>("application/json")
            .Produces<LinkResponse>(StatusCodes.Status201Created)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);

        links.MapPost("/batch", LinkBatchEndpoint.CreateAsync)
            .RequireAuthorization(ApiKeyPolicies.Links)
            .WithName("CreateLinks")
            .WithSummary($"Create up to {LinkBatchEndpoint.MaxLinks} links: with atomic, all or none (a cross-shard transaction); without, each on its own")
            .Accepts<LinkBatchRequest>("application/json")
            .Produces<LinkBatchResponse>(StatusCodes.Status201Created)
            .Produces<LinkBatchResponse>(StatusCodes.Status200OK)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(413).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);

        links.MapGet("", ListAsync)
            .RequireAuthorization(ApiKeyPolicies.ReadOnly)
            .WithName("ListLinks")
            .WithSummary("List live links, newest first (keyset paging)")
            .Produces<LinkListResponse>()
            .ProducesProblem(400).ProducesProblem(401);

        links.MapGet("/{code}", GetAsync)
            .WithName("GetLink")
            .WithSummary("Read one link; consistency=linearizable (the default with an API key; needs one) or local (the default without)")
            .Produces<LinkResponse>()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(410).ProducesProblem(429).ProducesProblem(503);

        links.MapPatch("/{code}", UpdateAsync)
            .RequireAuthorization(ApiKeyPolicies.Links)
            .WithName("UpdateLink")
            .WithSummary("Change a link (JSON merge patch)")
            .Accepts<UpdateLinkRequest>("application/merge-patch+json", "application/json")
            .Produces<LinkResponse>()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(410).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);

        links.MapDelete("/{code}", DeleteAsync)
            .RequireAuthorization(ApiKeyPolicies.Links)
            .WithName("DeleteLink")
            .WithSummary("Delete a link; its code then answers 410 and is never reused")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(401).ProducesProblem(404).ProducesProblem(429).ProducesProblem(503);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, LinkService service, NodeAddresses addresses, IOptions<NodeOptions> options)
    {
        var read = await JsonBody.ReadBytesAsync(context, options.Value.MaxRequestBodyBytes);
        if (read.Problem is not null)
        {
            return read.Problem;
        }

        var (document, canonical, unreadable) = CanonicalJson.Parse(read.Body!);
        if (unreadable is not null)
        {
            return unreadable;
        }

        CreateLinkRequest? request;
        var idempotency = IdempotencyFor(context, canonical!);
        using (document)
        {
            if (idempotency.Problem is not null)
            {
                return idempotency.Problem;
            }

            // A retry is answered from the first result before anything is validated again.
            if (idempotency.Token is { } token && service.FindIdempotent(token, AliasIn(document!.RootElement)) is { } previous)
            {
                return CreateResponse(context, previous, generated: false, addresses, service);
            }

            if (JsonBody.TryDeserialize(document!.RootElement, out request) is { } malformed)
            {
                return malformed;
            }
        }

        var (command, field, error) = CreateLinkValidation.Build(request!, service.NowMs, addresses, ApiKeyPolicies.OwnerOf(context.User));
        if (command is null)
        {
            return Invalid(field!, error!);
        }

        var result = await service.CreateAsync(command, idempotency.Token, context.RequestAborted);
        return CreateResponse(context, result, generated: command.Generated, addresses, service);
    }

    /// <summary>The response to a create, fresh or replayed (a replayed conflict is always an alias: generated-code conflicts are not remembered).</summary>
    private static IResult CreateResponse(HttpContext context, CommandResult result, bool generated, NodeAddresses addresses, LinkService service) => result.Outcome switch
    {
        CommandOutcome.Created => Replayed(context, result, Results.Created($"/api/v1/links/{result.Link!.Code}", LinkResponse.From(result.Link, addresses.PublicBaseUrl, service.NowMs))),
        CommandOutcome.Conflict when !generated && result.Link is not null => Replayed(context, result, Problems.Result(ProblemKind.AliasTaken, $"the alias '{result.Link.Code}' is already in use; choose another")),
        CommandOutcome.IdempotencyMismatch => Problems.Result(ProblemKind.IdempotencyKeyReused, $"this {IdempotencyHeader} was already used with a different request; use a new key for a new request"),
        _ => Problems.Result(ProblemKind.Internal, "no free code could be drawn; try again"),
    };

    private static async Task<IResult> ListAsync(HttpContext context, LinkService service, NodeAddresses addresses)
    {
        var query = context.Request.Query;
        var limit = DefaultListLimit;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxListLimit))
        {
            return Problems.Result(ProblemKind.MalformedRequest, $"limit must be a whole number from 1 to {MaxListLimit}");
        }

        LinkCursor? cursor = null;
        if (query.TryGetValue("cursor", out var cursorText) && !string.IsNullOrEmpty(cursorText))
        {
            if (!LinkCursor.TryDecode(cursorText, out var decoded))
            {
                return Problems.Result(ProblemKind.MalformedRequest, "cursor is not one this API handed out; pass nextCursor from the previous page");
            }

            cursor = decoded;
        }

        string? tag = query.TryGetValue("tag", out var tagText) && !string.IsNullOrEmpty(tagText) ? tagText.ToString() : null;
        var page = await service.ListAsync(limit, cursor, tag, ApiKeyPolicies.OwnerOf(context.User));
        var now = service.NowMs;
        return Results.Ok(new LinkListResponse(
            page.Links.Select(l => LinkResponse.From(l, addresses.PublicBaseUrl, now)).ToList(),
            page.Next?.Encode()));
    }

    private static async Task<IResult> GetAsync(string code, HttpContext context, LinkService service, NodeAddresses addresses)
    {
        // A linearizable read makes the shard's leader confirm its leadership with a quorum: for
        // key holders (their default); a read without a key is answered from this node's replica.
        var consistency = context.Request.Query["consistency"].ToString();
        var keyed = context.User.HasClaim(c => c.Type == Security.ApiKeyAuthenticationHandler.KeyIdClaim);
        Link? link;
        switch (consistency)
        {
            case "linearizable" when !keyed:
                return Problems.Result(ProblemKind.Unauthorized, "consistency=linearizable needs an API key (X-Api-Key); without one, reads are answered from this node's replica (consistency=local)");
            case "linearizable":
            case "" when keyed:
                link = await service.GetLinearizableAsync(code, context.RequestAborted);
                break;
            case "local" or "":
                link = service.Get(code);
                break;
            default:
                return Problems.Result(ProblemKind.MalformedRequest, "consistency must be linearizable (the default with an API key) or local (the default without)");
        }

        if (link is null || !link.VisibleTo(ApiKeyPolicies.OwnerOf(context.User)))
        {
            return Problems.Result(ProblemKind.NotFound, $"no link has the code '{code}'");
        }

        return link.Deleted
            ? Problems.Result(ProblemKind.Gone, $"the link '{code}' was deleted")
            : Results.Ok(LinkResponse.From(link, addresses.PublicBaseUrl, service.NowMs));
    }

    private static async Task<IResult> UpdateAsync(string code, HttpContext context, LinkService service, NodeAddresses addresses, IOptions<NodeOptions> options)
    {
        var read = await JsonBody.ReadBytesAsync(context, options.Value.MaxRequestBodyBytes);
        if (read.Problem is not null)
        {
            return read.Problem;
        }

        var (document, canonical, unreadable) = CanonicalJson.Parse(read.Body!);
        if (unreadable is not null)
        {
            return unreadable;
        }

        using (document)
        {
            var idempotency = IdempotencyFor(context, canonical!);
            if (idempotency.Problem is not null)
            {
                return idempotency.Problem;
            }

            CommandResult result;
            if (idempotency.Token is { } token && service.FindIdempotent(token, code) is { } previous)
            {
                result = previous;
            }
            else
            {
                var patch = LinkPatchReader.Read(document!.RootElement, addresses.TargetRules, service.NowMs);
                if (patch.Problem is not null)
                {
                    return patch.Problem;
                }

                result = await service.SubmitAsync(new UpdateLink(service.NowMs, code, patch.Patch!, ApiKeyPolicies.OwnerOf(context.User)), idempotency.Token, context.RequestAborted);
            }

            return result.Outcome switch
            {
                CommandOutcome.Ok => Replayed(context, result, Results.Ok(LinkResponse.From(result.Link!, addresses.PublicBaseUrl, service.NowMs))),
                CommandOutcome.NotFound => Problems.Result(ProblemKind.NotFound, $"no link has the code '{code}'"),
                CommandOutcome.Gone => Problems.Result(ProblemKind.Gone, $"the link '{code}' was deleted and cannot be changed"),
                CommandOutcome.IdempotencyMismatch => Problems.Result(ProblemKind.IdempotencyKeyReused, $"this {IdempotencyHeader} was already used with a different request"),
                _ => Problems.Result(ProblemKind.Internal, $"unexpected outcome {result.Outcome}"),
            };
        }
    }

    private static async Task<IResult> DeleteAsync(string code, HttpContext context, LinkService service)
    {
        var idempotency = IdempotencyFor(context, string.Empty);
        if (idempotency.Problem is not null)
        {
            return idempotency.Problem;
        }

        var result = idempotency.Token is { } token && service.FindIdempotent(token, code) is { } previous
            ? previous
            : await service.SubmitAsync(new DeleteLink(service.NowMs, code, ApiKeyPolicies.OwnerOf(context.User)), idempotency.Token, context.RequestAborted);
        return result.Outcome switch
        {
            CommandOutcome.Ok => Replayed(context, result, Results.NoContent()),
            CommandOutcome.NotFound => Problems.Result(ProblemKind.NotFound, $"no link has the code '{code}'"),
            CommandOutcome.IdempotencyMismatch => Problems.Result(ProblemKind.IdempotencyKeyReused, $"this {IdempotencyHeader} was already used with a different request"),
            _ => Problems.Result(ProblemKind.Internal, $"unexpected outcome {result.Outcome}"),
        };
    }

    /// <summary>The alias a create request names, as sent (it picks the shard a retry's first result is in).</summary>
    private static string? AliasIn(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("alias", out var alias) && alias.ValueKind == JsonValueKind.String ? alias.GetString() : null;

    /// <summary>A shard without a quorum in time becomes 503 no-quorum, with advice on retrying.</summary>
    internal static async ValueTask<object?> AnswerNoQuorum(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ShardUnavailableException e)
        {
            if (!HttpMethods.IsGet(context.HttpContext.Request.Method))
            {
                context.HttpContext.RequestServices.GetRequiredService<NodeJournal>().Record(
                    JournalKind.WriteRefused,
                    $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path}: {e.Message}{(e.MayHaveApplied ? " (may still be applied)" : string.Empty)}",
                    e.Shard);
            }

            context.HttpContext.Response.Headers.RetryAfter = "1";
            var advice = e.MayHaveApplied ? " The write may still be applied: retry with the same Idempotency-Key to learn its outcome safely." : " Nothing was written; retry later.";
            return Problems.Result(ProblemKind.NoQuorum, e.Message + "." + advice, new Dictionary<string, object?> { ["shard"] = e.Shard });
        }
        catch (LinkLockedException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return Problems.Result(ProblemKind.Locked, e.Message, new Dictionary<string, object?> { ["code"] = e.Code, ["transaction"] = e.Transaction });
        }
    }

    internal static IResult Invalid(string field, string message) =>
        Problems.Result(ProblemKind.InvalidField, message, new Dictionary<string, object?> { ["field"] = field });

    private static IResult Replayed(HttpContext context, CommandResult result, IResult response)
    {
        if (result.Replayed)
        {
            context.Response.Headers[ReplayedHeader] = "true";
        }

        return response;
    }

    /// <summary>
    /// The idempotency token of a request: the client's key, scoped to its API key, bound to the
    /// hash of the method, path and canonical body (see <see cref="CanonicalJson"/>).
    /// </summary>
    private static (IdempotencyToken? Token, IResult? Problem) IdempotencyFor(HttpContext context, string canonicalBody)
    {
        if (!context.Request.Headers.TryGetValue(IdempotencyHeader, out var values))
        {
            return (null, null);
        }

        var key = values.ToString();
        if (key.Length is < 1 or > 255 || key.Any(c => c is < '!' or > '~'))
        {
            return (null, Problems.Result(ProblemKind.MalformedRequest, $"{IdempotencyHeader} must be 1 to 255 visible ASCII characters"));
        }

        var scope = context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "anonymous";
        return (new IdempotencyToken(scope, key, CanonicalJson.RequestHash(context, canonicalBody)), null);
    }
}
