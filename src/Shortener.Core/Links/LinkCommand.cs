using System.Text.Json.Serialization;

namespace Shortener.Core.Links;

/// <summary>
/// A change to link state. Every input the change needs, including the time it happened, is in the
/// command, so applying it is deterministic and a replicated log can replay it on any replica.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(CreateLink), "create")]
[JsonDerivedType(typeof(UpdateLink), "update")]
[JsonDerivedType(typeof(DeleteLink), "delete")]
[JsonDerivedType(typeof(RecordVisit), "visit")]
[JsonDerivedType(typeof(LeaseCodeBlock), "lease")]
[JsonDerivedType(typeof(PurgeIdempotency), "purge")]
[JsonDerivedType(typeof(SetClusterMembers), "members")]
[JsonDerivedType(typeof(SetClusterDocument), "document")]
[JsonDerivedType(typeof(AcquireLease), "acquireLease")]
[JsonDerivedType(typeof(RecordLeaseProgress), "leaseProgress")]
[JsonDerivedType(typeof(ReleaseLease), "releaseLease")]
[JsonDerivedType(typeof(BeginTransaction), "txnBegin")]
[JsonDerivedType(typeof(DecideTransaction), "txnDecide")]
[JsonDerivedType(typeof(PrepareIntents), "txnPrepare")]
[JsonDerivedType(typeof(ResolveIntent), "txnResolve")]
public abstract record LinkCommand(long At);

/// <summary>
/// Create a link under <paramref name="Code"/>; refused with Conflict if the code exists, even
/// deleted. <paramref name="Generated"/> marks a code drawn from the sequence rather than chosen by
/// the client: its rare collision with an alias is retried by the proposer under a new code, so that
/// conflict is not remembered against the client's idempotency key. The fields after it are
/// optional (commands logged before they existed read as their defaults).
/// </summary>
public sealed record CreateLink(
    long At,
    string Code,
    string Url,
    long? ExpiresAt,
    long? MaxVisits,
    int RedirectStatus,
    IReadOnlyList<string> Tags,
    string? Title,
    bool Generated = false,
    long? ValidSince = null,
    bool Crawlable = false,
    bool ForwardQuery = false,
    string? Owner = null) : LinkCommand(At);

/// <summary>
/// Change some fields of a live link. With <paramref name="AsOwner"/>, only a link of that owner:
/// another's is NotFound, as if it were not there (a key limited to its owner's links).
/// </summary>
public sealed record UpdateLink(long At, string Code, LinkPatch Patch, string? AsOwner = null) : LinkCommand(At);

/// <summary>Mark a link deleted. Deleting twice is not an error. <paramref name="AsOwner"/> as for <see cref="UpdateLink"/>.</summary>
public sealed record DeleteLink(long At, string Code, string? AsOwner = null) : LinkCommand(At);

/// <summary>Count one visit of a link that has a visit limit; refused when the link no longer redirects.</summary>
public sealed record RecordVisit(long At, string Code) : LinkCommand(At);

/// <summary>Reserve the next <paramref name="Size"/> numbers of the link sequence for one allocator.</summary>
public sealed record LeaseCodeBlock(long At, ulong Size) : LinkCommand(At);

/// <summary>
/// Forget idempotency records older than the retention as of <paramref name="At"/>. Replicated like
/// any other command, so every replica forgets the same records at the same point of the log.
/// </summary>
public sealed record PurgeIdempotency(long At) : LinkCommand(At);

/// <summary>
/// Replace the cluster's member list (kept in shard 0, which every node holds) with
/// <paramref name="Document"/>, if it is still at <paramref name="ExpectedVersion"/>; refused with
/// Conflict otherwise, so two operators' changes cannot overwrite each other. The document is
/// opaque here: the node reads it. Applied, the version is one more than expected.
/// </summary>
public sealed record SetClusterMembers(long At, long ExpectedVersion, string Document) : LinkCommand(At);

/// <summary>
/// Replace the cluster document <paramref name="Name"/> (one of <see cref="ClusterDocumentNames"/>)
/// with <paramref name="Document"/>, if it is still at <paramref name="ExpectedVersion"/>: the same
/// compare-and-set as <see cref="SetClusterMembers"/>, for every other document shard 0 keeps.
/// </summary>
public sealed record SetClusterDocument(long At, string Name, long ExpectedVersion, string Document) : LinkCommand(At);

/// <summary>
/// Ask for the lease <paramref name="Name"/> of this shard (<see cref="Leases.Lease"/>) for
/// <paramref name="Holder"/>, until <c>At + DurationMs</c>: granted when free, expired, or already
/// the holder's (a renewal keeps the token, and records <paramref name="Progress"/> when given, so
/// a holder's progress rides on its renewals); Conflict with the current lease otherwise.
/// </summary>
public sealed record AcquireLease(long At, string Name, ulong Holder, long DurationMs, string? Progress = null) : LinkCommand(At);

/// <summary>Note how far the lease's job got; Conflict unless <paramref name="Token"/> is still the lease's (fenced).</summary>
public sealed record RecordLeaseProgress(long At, string Name, ulong Token, string Progress) : LinkCommand(At);

/// <summary>End the lease now, if <paramref name="Token"/> is still its (a holder handing over before expiry).</summary>
public sealed record ReleaseLease(long At, string Name, ulong Token) : LinkCommand(At);

/// <summary>
/// Write the pending record of transaction <paramref name="Id"/> in this shard, its coordinator
/// shard (<see cref="Transactions.TransactionRules.Begin"/>); Conflict with the record that
/// stands when the id is taken.
/// </summary>
public sealed record BeginTransaction(long At, string Id, IReadOnlyList<int> Participants, long DeadlineMs) : LinkCommand(At);

/// <summary>
/// Decide transaction <paramref name="Id"/> (<see cref="Transactions.TransactionRules.Decide"/>):
/// the coordinator's commit or abort, or a recovery's abort. Ok when the record now holds
/// <paramref name="Decision"/>; Conflict with the record when it holds the other one.
/// </summary>
public sealed record DecideTransaction(long At, string Id, Transactions.TransactionState Decision) : LinkCommand(At);

/// <summary>
/// Hold <paramref name="Writes"/> (creates, updates, deletes of distinct codes of this shard) for
/// transaction <paramref name="Txn"/> as intents (<see cref="Transactions.Intent"/>): all of them
/// or none. Refused with the first write's refusal when it could not be made now (NotFound, Gone,
/// Conflict: the code is taken, or another transaction holds it, <see cref="CommandResult.LockedBy"/>).
/// Preparing again a transaction that holds its intents here is Ok. <paramref name="Coordinator"/>
/// is the shard that keeps the transaction's record (where a recovery reads it).
/// </summary>
public sealed record PrepareIntents(long At, string Txn, int Coordinator, long DeadlineMs, IReadOnlyList<LinkCommand> Writes) : LinkCommand(At);

/// <summary>
/// Resolve transaction <paramref name="Txn"/>'s intent on <paramref name="Code"/> as
/// <paramref name="Decision"/>: committed, its write is made now (and is the change this command
/// records); aborted, it is dropped. One per code, so each committed write is one change event.
/// An intent that is not there (already resolved) is Ok and changes nothing.
/// </summary>
public sealed record ResolveIntent(long At, string Code, string Txn, Transactions.TransactionState Decision) : LinkCommand(At);
