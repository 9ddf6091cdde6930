namespace Shortener.Core.Links;

/// <summary>
/// What applying a command did. <see cref="Replayed"/> is set when an idempotent retry got the first
/// result back; <see cref="DocumentVersion"/> is a cluster document's version after a
/// <see cref="SetClusterMembers"/> or <see cref="SetClusterDocument"/> (kept under its first JSON
/// name, which logs and idempotency records already hold); <see cref="Lease"/> the lease a lease
/// command left (granted or, refused, the one that stands); <see cref="ChangesPurgedThrough"/> the
/// offset a purge has forgotten the shard's changes through (readers of the feed's tail honour it);
/// <see cref="Transaction"/> the record a transaction command left (or, refused, the one that stands);
/// <see cref="LockedBy"/> the transaction whose intent refused a write; <see cref="Resolved"/> the
/// write a committed intent made (its change is recorded as that write's).
/// </summary>
public sealed record CommandResult(
    CommandOutcome Outcome,
    Link? Link = null,
    CodeBlock? Block = null,
    bool Replayed = false,
    int Purged = 0,
    [property: System.Text.Json.Serialization.JsonPropertyName("membersVersion")] long DocumentVersion = 0,
    Leases.Lease? Lease = null,
    Changes.ChangeOffset? ChangesPurgedThrough = null,
    Transactions.TransactionRecord? Transaction = null,
    string? LockedBy = null,
    LinkCommand? Resolved = null)
{
    public static CommandResult NotFound { get; } = new(CommandOutcome.NotFound);

    public static CommandResult IdempotencyMismatch { get; } = new(CommandOutcome.IdempotencyMismatch);

    public bool Succeeded => Outcome is CommandOutcome.Ok or CommandOutcome.Created;
}
