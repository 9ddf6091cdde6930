using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shortener.Core.Transactions;

/// <summary>
/// A transaction's record, kept in the log of its coordinator shard (the shard of its first key):
/// the one place its decision is made. <paramref name="DeadlineMs"/> is when a participant that
/// meets one of its intents may stop waiting and decide it aborted.
/// </summary>
public sealed record TransactionRecord(string Id, IReadOnlyList<int> Participants, long DeadlineMs, TransactionState State)
{
    public bool IsDecided => State != TransactionState.Pending;

    /// <summary>The key a shard keeps a record under among its documents (never a cluster document's or a lease's).</summary>
    public static string KeyOf(string id) => "txn:" + id;

    public string Serialize() => JsonSerializer.Serialize(this, TransactionJsonContext.Default.TransactionRecord);

    public static TransactionRecord Parse(string document) =>
        JsonSerializer.Deserialize(document, TransactionJsonContext.Default.TransactionRecord) ?? throw new InvalidDataException("a transaction record is empty");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(TransactionRecord))]
internal sealed partial class TransactionJsonContext : JsonSerializerContext;
