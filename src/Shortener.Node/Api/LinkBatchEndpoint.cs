using Microsoft.AspNetCore.Http;
using Shortener.Core.Links;
using Shortener.Core.Transactions;
using Shortener.Node.Hosting;
using Shortener.Node.Links;
using Shortener.Node.Security;
using Shortener.Node.Shards;
using Shortener.Node.Transactions;

namespace Shortener.Node.Api;

/// <summary>Body of POST /api/v1/links/batch.</summary>
public sealed record LinkBatchRequest(bool Atomic = false, IReadOnlyList<CreateLinkRequest?>? Links = null);

/// <summary>One item of a batch's answer: the link made, or the problem with it (non-atomic batches), by its place in the request.</summary>
public sealed record LinkBatchItem(int Index, int Status, LinkResponse? Link = null, string? Problem = null, string? Detail = null);

/// <summary>The answer to a batch: every item's outcome in request order.</summary>
public sealed record LinkBatchResponse(bool Atomic, int Created, IReadOnlyList<LinkBatchItem> Items);

/// <summary>
/// POST /api/v1/links/batch (docs/api.md, docs/transactions.md): up to <see cref="MaxLinks"/> links.
/// Every item is checked first; one that is wrong refuses the whole request (422, each listed),
/// and so do two items with one alias. With <c>atomic</c>, the links are made by one cross-shard
/// transaction, all or none: an alias that is taken (or held by another transaction) fails the
/// batch with 409, listing each; without it, each link is created on its own and the answer says
/// which were (200, per item).
/// </summary>
public static class LinkBatchEndpoint
{
    public const int MaxLinks = 1000;

    /// <summary>A batch's body may be larger than a single create's: 1,000 links of a few hundred bytes.</summary>
    public const int MaxBodyBytes = 1 << 20;

    private const int GeneratedCodeAttempts = 3;

    public static async Task<IResult> CreateAsync(HttpContext context, LinkService service, TransactionRunner transactions, NodeAddresses addresses)
    {
        var read = await JsonBody.ReadBytesAsync(context, MaxBodyBytes);
        if (read.Problem is not null)
        {
            return read.Problem;
        }

        var (document, _, unreadable) = CanonicalJson.Parse(read.Body!);
        if (unreadable is not null)
        {
            return unreadable;
        }

        LinkBatchRequest? request;
        using (document)
        {
            if (JsonBody.TryDeserialize(document!.RootElement, out request) is { } malformed)
            {
                return malformed;
            }
        }

        if (request!.Links is not { Count: > 0 and <= MaxLinks } items)
        {
            return LinkEndpoints.Invalid("links", $"links must hold 1 to {MaxLinks} links to create");
        }

        var owner = ApiKeyPolicies.OwnerOf(context.User);
        var now = service.NowMs;
        var commands = new List<CreateLink>(items.Count);
        var invalid = new List<object>();
        for (var i = 0; i < items.Count; i++)
        {
            var (command, field, error) = items[i] is { } item ? CreateLinkValidation.Build(item, now, addresses, owner) : (null, "links", "a link to create is an object");
            if (command is null)
            {
                invalid.Add(new { index = i, field, error });
                continue;
            }

            commands.Add(command);
        }

        var twice = commands.Where(c => !c.Generated).GroupBy(c => c.Code, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        invalid.AddRange(twice.Select(code => (object)new { index = -1, field = "alias", error = $"the alias '{code}' is asked for more than once" }));
        if (invalid.Count > 0)
        {
            return Problems.Result(ProblemKind.InvalidField, $"{invalid.Count} of the batch's links are not valid; nothing was created", new Dictionary<string, object?> { ["field"] = "links", ["items"] = invalid });
        }

        return request.Atomic
            ? await CreateAtomicallyAsync(context, service, transactions, addresses, commands)
            : await CreateEachAsync(context, service, addresses, commands);
    }

    private static async Task<IResult> CreateAtomicallyAsync(HttpContext context, LinkService service, TransactionRunner transactions, NodeAddresses addresses, List<CreateLink> requested)
    {
        for (var attempt = 1; ; attempt++)
        {
            var commands = new List<CreateLink>(requested.Count);
            foreach (var command in requested)
            {
                commands.Add(command.Generated ? command with { Code = await service.DrawCodeAsync(context.RequestAborted) } : command);
            }

            var outcome = await transactions.RunAsync(commands, context.RequestAborted);
            if (outcome.Committed)
            {
                var now = service.NowMs;
                var made = commands.Select((c, i) => service.Get(c.Code) is { } link ? new LinkBatchItem(i, 201, LinkResponse.From(link, addresses.PublicBaseUrl, now)) : new LinkBatchItem(i, 201)).ToList();
                return Results.Json(new LinkBatchResponse(true, made.Count, made), statusCode: StatusCodes.Status201Created);
            }

            if (outcome.State == TransactionState.Pending)
            {
                context.Response.Headers.RetryAfter = "5";
                return Problems.Result(ProblemKind.TransactionUnresolved, $"transaction {outcome.Id} could not record its decision ({outcome.Failure}); its links are committed or none is, decided within {TransactionRunner.Deadline.TotalSeconds:0} s: read them to learn which", new Dictionary<string, object?> { ["transaction"] = outcome.Id });
            }

            if (outcome.Refusal is null)
            {
                context.Response.Headers.RetryAfter = "1";
                return Problems.Result(ProblemKind.NoQuorum, $"transaction {outcome.Id} aborted: {outcome.Failure}; nothing was created", new Dictionary<string, object?> { ["transaction"] = outcome.Id });
            }

            // Which links conflict, read now: the refusal names the first, the batch may hold more.
            var conflicts = commands.Select((c, i) => (Index: i, Command: c)).Where(x => service.Get(x.Command.Code) is not null || x.Command.Code == outcome.Refusal.Link?.Code).ToList();
            if (conflicts.Count > 0 && conflicts.All(x => requested[x.Index].Generated) && attempt < GeneratedCodeAttempts)
            {
                continue; // only drawn codes collided with aliases: draw again
            }

            var listed = conflicts.Where(x => !requested[x.Index].Generated).Select(x => (object)new { index = x.Index, alias = x.Command.Code }).ToList();
            var detail = outcome.Refusal.LockedBy is { } holder
                ? $"a link of the batch is held by transaction {holder}; nothing was created: retry shortly"
                : $"{Math.Max(1, listed.Count)} of the batch's aliases are in use; nothing was created";
            return Problems.Result(ProblemKind.BatchConflict, detail, new Dictionary<string, object?> { ["transaction"] = outcome.Id, ["conflicts"] = listed });
        }
    }

    private static async Task<IResult> CreateEachAsync(HttpContext context, LinkService service, NodeAddresses addresses, List<CreateLink> commands)
    {
        var items = new List<LinkBatchItem>(commands.Count);
        for (var i = 0; i < commands.Count; i++)
        {
            items.Add(await CreateOneAsync(context, service, addresses, commands[i], i));
        }

        return Results.Json(new LinkBatchResponse(false, items.Count(i => i.Status == StatusCodes.Status201Created), items));
    }

    private static async Task<LinkBatchItem> CreateOneAsync(HttpContext context, LinkService service, NodeAddresses addresses, CreateLink command, int index)
    {
        try
        {
            var result = await service.CreateAsync(command, null, context.RequestAborted);
            return result.Outcome switch
            {
                CommandOutcome.Created => new LinkBatchItem(index, 201, LinkResponse.From(result.Link!, addresses.PublicBaseUrl, service.NowMs)),
                CommandOutcome.Conflict => Problem(index, ProblemKind.AliasTaken, $"the alias '{command.Code}' is already in use"),
                _ => Problem(index, ProblemKind.Internal, $"unexpected outcome {result.Outcome}"),
            };
        }
        catch (LinkLockedException e)
        {
            return Problem(index, ProblemKind.Locked, e.Message);
        }
        catch (ShardUnavailableException e)
        {
            return Problem(index, ProblemKind.NoQuorum, e.Message + (e.MayHaveApplied ? " (it may still be created)" : string.Empty));
        }
    }

    private static LinkBatchItem Problem(int index, ProblemKind kind, string detail)
    {
        var (status, _, _) = Problems.Describe(kind);
        return new LinkBatchItem(index, status, Problem: Problems.TypeUri(kind), Detail: detail);
    }
}
