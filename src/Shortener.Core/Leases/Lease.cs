using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shortener.Core.Leases;

/// <summary>
/// The right of one node to run a job nobody else may run at the same time (delivering a shard's
/// changes to a sink), as a shard's log last granted it. <see cref="Token"/> is the log index of
/// the entry that gave the lease to its holder: it only grows, so whoever the job writes to can
/// refuse a write that carries a lower token than one it has seen (a fencing token).
/// <see cref="ExpiresAtMs"/> is in the proposers' clock (the commands' time); the holder counts
/// its own ticks to decide when to stop, and fencing covers the gap when the two disagree.
/// <see cref="Progress"/> is the job's own note of how far it got (for a sink, the offset it
/// delivered through), written only under the current token, so a new holder resumes from it.
/// </summary>
public sealed record Lease(string Name, ulong Holder, ulong Token, long ExpiresAtMs, string? Progress = null)
{
    /// <summary>The meta key a shard keeps a lease under (never one of the cluster documents' names).</summary>
    public static string KeyOf(string name) => "lease:" + name;

    public bool ExpiredAt(long atMs) => atMs >= ExpiresAtMs;

    public string Serialize() => JsonSerializer.Serialize(this, LeaseJsonContext.Default.Lease);

    public static Lease Parse(string document) =>
        JsonSerializer.Deserialize(document, LeaseJsonContext.Default.Lease) ?? throw new InvalidDataException("a lease document is empty");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Lease))]
internal sealed partial class LeaseJsonContext : JsonSerializerContext;
