namespace Shortener.Core.Links;

/// <summary>A command as proposed: with the client's idempotency key when it sent one.</summary>
public sealed record LinkCommandEnvelope(LinkCommand Command, IdempotencyToken? Idempotency = null);
