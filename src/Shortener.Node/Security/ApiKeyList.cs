using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shortener.Node.Security;

/// <summary>
/// One key of the cluster's key list: never the key itself, only its SHA-256. A revoked key stays
/// listed (with <see cref="RevokedAt"/>) so an audit can tell what it was.
/// </summary>
/// <param name="Owner">With role links: the owner whose links alone the key sees and changes (Shlink's "author only" key); several keys may share one.</param>
public sealed record ApiKeyRecord(string Id, string Name, string Role, string? Owner, string Hash, long CreatedAt, long? RevokedAt = null)
{
    [JsonIgnore]
    public bool Revoked => RevokedAt is not null;
}

/// <summary>
/// The cluster's API keys: the document shard 0 replicates under
/// <see cref="Core.Links.ClusterDocumentNames.ApiKeys"/>, changed whole by compare-and-set. Bounded
/// (<see cref="MaxKeys"/>): revoked keys make room, oldest first, before a new key is refused.
/// </summary>
public sealed record ApiKeyList(IReadOnlyList<ApiKeyRecord> Keys)
{
    public const int MaxKeys = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static ApiKeyList Empty { get; } = new([]);

    public static ApiKeyList Parse(string document) =>
        JsonSerializer.Deserialize<ApiKeyList>(document, Json) is { Keys: not null } list
            ? list
            : throw new JsonException("the key list has no keys array");

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public ApiKeyRecord? Find(string id) => Keys.FirstOrDefault(k => k.Id == id);

    /// <summary>The list with <paramref name="key"/> added; revoked keys dropped oldest first to stay within the bound; null when live keys alone fill it.</summary>
    public ApiKeyList? With(ApiKeyRecord key)
    {
        var keys = Keys.ToList();
        while (keys.Count >= MaxKeys)
        {
            var oldest = keys.Where(k => k.Revoked).OrderBy(k => k.RevokedAt).FirstOrDefault();
            if (oldest is null)
            {
                return null;
            }

            keys.Remove(oldest);
        }

        keys.Add(key);
        return new ApiKeyList(keys);
    }

    public ApiKeyList Revoking(string id, long at) =>
        new([.. Keys.Select(k => k.Id == id && !k.Revoked ? k with { RevokedAt = at } : k)]);
}
