namespace Shortener.Core.Links;

/// <summary>A remembered result of an idempotent request, kept for <see cref="LinkStateMachine.IdempotencyRetentionMs"/>.</summary>
public sealed record IdempotencyRecord(string Scope, string Key, string RequestHash, CommandResult Result, long CreatedAt);
