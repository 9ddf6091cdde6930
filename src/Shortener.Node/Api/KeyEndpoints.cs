using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Security;

namespace Shortener.Node.Api;

/// <summary>POST /admin/v1/keys: a new key's name, role (admin, links, read-only) and, for a links key limited to its own links, its owner.</summary>
public sealed record CreateKeyRequest(string? Name, string? Role, string? Owner);

/// <summary>A key as the API shows it: never its hash; <paramref name="Key"/> only in the answer that created it.</summary>
public sealed record KeyView(string Id, string Name, string Role, string? Owner, long? CreatedAt, long? RevokedAt, bool Bootstrap = false, string? Key = null)
{
    public static KeyView Of(ApiKeyRecord record, string? key = null) =>
        new(record.Id, record.Name, record.Role, record.Owner, record.CreatedAt, record.RevokedAt, Key: key);
}

/// <summary>GET /admin/v1/keys: the cluster's keys (revoked ones too) at a version, then this node's bootstrap keys.</summary>
public sealed record KeyListResponse(long Version, IReadOnlyList<KeyView> Keys);

/// <summary>/admin/v1/keys: the cluster's API keys, replicated through shard 0 (<see cref="ApiKeyService"/>).</summary>
public static partial class KeyEndpoints
{
    public const int MaxNameLength = 64;

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/keys", CreateAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("CreateKey")
            .WithSummary("Make an API key (name, role: admin|links|read-only, owner for a links key limited to its own links); the key is in this answer only")
            .Accepts<CreateKeyRequest>("application/json")
            .Produces<KeyView>(StatusCodes.Status201Created)
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(415).ProducesProblem(422).ProducesProblem(503);

        admin.MapGet("/keys", ListAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("ListKeys")
            .WithSummary("The cluster's API keys (without hashes), revoked ones included, and this node's bootstrap keys")
            .Produces<KeyListResponse>()
            .ProducesProblem(503);

        admin.MapGet("/keys/{id}", async (string id, HttpContext context, ApiKeyService keys) =>
                (await keys.ListAsync(context.RequestAborted)).List.Find(id) is { } key
                    ? Results.Ok(KeyView.Of(key))
                    : Problems.Result(ProblemKind.NoSuchKey, $"no key of the cluster has the id {id}"))
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("GetKey")
            .WithSummary("One of the cluster's keys (without its hash)")
            .Produces<KeyView>()
            .ProducesProblem(404).ProducesProblem(503);

        admin.MapDelete("/keys/{id}", RevokeAsync)
            .AddEndpointFilter(LinkEndpoints.AnswerNoQuorum)
            .WithName("RevokeKey")
            .WithSummary("Revoke a key: every node refuses it once it applies the change")
            .Produces<KeyView>()
            .ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ApiKeyService keys)
    {
        var (request, problem) = await AdminEndpoints.ReadSmallAsync<CreateKeyRequest>(context, "{\"name\": ..., \"role\": \"admin\"|\"links\"|\"read-only\", \"owner\": <optional, links keys>}");
        if (problem is not null)
        {
            return problem;
        }

        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return Problems.Result(ProblemKind.InvalidField, $"name is required: 1 to {MaxNameLength} printable characters");
        }

        if (ApiKeyRoles.Parse(request!.Role) is not { } role)
        {
            return Problems.Result(ProblemKind.InvalidField, $"role must be one of {string.Join(", ", ApiKeyRoles.Names)}");
        }

        var owner = request.Owner?.Trim();
        if (owner is not null && (role != ApiKeyRole.Links || !OwnerPattern().IsMatch(owner)))
        {
            return Problems.Result(ProblemKind.InvalidField, "owner is for links keys only: 1 to 64 letters, digits, '.', '_', '-' or '@'");
        }

        try
        {
            var (record, key) = await keys.CreateAsync(name, role, owner, context.RequestAborted);
            return Results.Created($"/admin/v1/keys/{record.Id}", KeyView.Of(record, key));
        }
        catch (KeyRefusedException e)
        {
            return Refused(e);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext context, ApiKeyService keys, ApiKeyRegistry registry)
    {
        var (version, list) = await keys.ListAsync(context.RequestAborted);
        var bootstrap = registry.BootstrapIds.Select(id => new KeyView(id, id, ApiKeyRoles.Admin, null, null, null, Bootstrap: true));
        return Results.Ok(new KeyListResponse(version, [.. list.Keys.Select(k => KeyView.Of(k)), .. bootstrap]));
    }

    private static async Task<IResult> RevokeAsync(string id, HttpContext context, ApiKeyService keys)
    {
        try
        {
            return Results.Ok(KeyView.Of(await keys.RevokeAsync(id, context.RequestAborted)));
        }
        catch (KeyRefusedException e)
        {
            return Refused(e);
        }
    }

    private static IResult Refused(KeyRefusedException e) =>
        Problems.Result(e.Refusal == KeyRefusal.NotFound ? ProblemKind.NoSuchKey : ProblemKind.KeyConflict, e.Message);

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,64}$")]
    private static partial Regex OwnerPattern();
}
