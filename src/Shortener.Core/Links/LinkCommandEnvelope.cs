namespace Shortener.Core.Links;

/// <summary>
/// A command as proposed: with the client's idempotency key when it sent one, and the proposer's
/// hybrid logical clock when it proposed (<see cref="Clocks.HlcTimestamp.Pack"/>; null from
/// proposers that keep none), which the change event of the command carries as <c>source.hlc</c>.
/// </summary>
public sealed record LinkCommandEnvelope(LinkCommand Command, IdempotencyToken? Idempotency = null, ulong? Hlc = null);
