namespace Shortener.Core.Raft;

public readonly record struct ConfChangeSingle(ConfChangeType Type, ulong NodeId);
