namespace Shortener.Core.Raft;

/// <summary>A confirmed read: once the application has applied <see cref="Index"/>, reading its state is linearizable for <see cref="RequestContext"/>.</summary>
public sealed record ReadState(ulong Index, byte[] RequestContext);
