namespace Shortener.Core.Links;

/// <summary>
/// A client's idempotency key, scoped to the client that sent it, with a hash of the request it
/// came with: a retry must carry the same request to get the first result back.
/// </summary>
public sealed record IdempotencyToken(string Scope, string Key, string RequestHash);
