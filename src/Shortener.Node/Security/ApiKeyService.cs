using Shortener.Core.Links;
using Shortener.Node.Membership;
using Shortener.Node.Shards;

namespace Shortener.Node.Security;

/// <summary>Why a key change was refused.</summary>
public enum KeyRefusal
{
    NotFound,
    Conflict,
}

public sealed class KeyRefusedException(KeyRefusal refusal, string message) : Exception(message)
{
    public KeyRefusal Refusal { get; } = refusal;
}

/// <summary>
/// Creates, lists and revokes the cluster's API keys, whose list lives in shard 0's log: each change
/// reads the list linearizably, computes the new one and proposes it against the version it read
/// (a compare-and-set; a concurrent change makes it start over). A change is answered once this
/// node applied it, so the key works here at once and on every other node as soon as it applies.
/// </summary>
public sealed class ApiKeyService(ShardHost shards, ApiKeyRegistry registry, TimeProvider time)
{
    /// <summary>Makes a key; returns its record and the key itself, which exists nowhere else.</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(string name, ApiKeyRole role, string? owner, CancellationToken cancellationToken)
    {
        var key = ApiKeyRegistry.Generate();
        var hash = ApiKeyRegistry.Hash(key);
        var record = new ApiKeyRecord("key-" + hash[..12], name, ApiKeyRoles.Name(role), owner, hash, time.GetUtcNow().ToUnixTimeMilliseconds());
        await ChangeAsync(
            list => list.With(record) ?? throw new KeyRefusedException(KeyRefusal.Conflict, $"the cluster already has {ApiKeyList.MaxKeys} live keys; revoke some first"),
            cancellationToken).ConfigureAwait(false);
        return (record, key);
    }

    /// <summary>Revokes the key <paramref name="id"/>; revoking a revoked key changes nothing.</summary>
    public async Task<ApiKeyRecord> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        if (registry.BootstrapIds.Contains(id))
        {
            throw new KeyRefusedException(KeyRefusal.Conflict, $"{id} is a bootstrap key of this node (its SHORTENER_API_KEY or the key it generated), not one of the cluster's: change it in the node's configuration");
        }

        var list = await ChangeAsync(
            list => list.Find(id) switch
            {
                null => throw new KeyRefusedException(KeyRefusal.NotFound, $"no key has the id {id}"),
                { Revoked: true } => null,
                _ => list.Revoking(id, time.GetUtcNow().ToUnixTimeMilliseconds()),
            },
            cancellationToken).ConfigureAwait(false);
        return list.Find(id)!;
    }

    /// <summary>The cluster's key list as of a linearizable read of shard 0.</summary>
    public async Task<(long Version, ApiKeyList List)> ListAsync(CancellationToken cancellationToken)
    {
        await shards.Replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
        return registry.Cluster;
    }

    /// <summary>Applies <paramref name="change"/> (null: nothing to change; it throws to refuse) and returns the list this node then holds.</summary>
    private Task<ApiKeyList> ChangeAsync(Func<ApiKeyList, ApiKeyList?> change, CancellationToken cancellationToken) =>
        ClusterDocumentEditor.ChangeAsync(
            shards,
            time,
            ClusterDocumentNames.ApiKeys,
            () => registry.Cluster,
            change,
            list => list.Serialize(),
            version => new KeyRefusedException(KeyRefusal.Conflict, $"the key list kept changing underneath (now at version {version}); try again"),
            cancellationToken);
}
