namespace Shortener.Core.Raft;

/// <summary>Volatile state worth reporting (who leads, in what role); never persisted.</summary>
public readonly record struct SoftState(ulong Lead, RaftRole Role);
