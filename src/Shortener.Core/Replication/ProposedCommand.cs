namespace Shortener.Core.Replication;

/// <summary>One command as the state machine receives it: the proposal it came from, the log position it committed at, and its bytes.</summary>
public readonly record struct ProposedCommand(ProposalId Id, ulong Index, ulong Term, ReadOnlyMemory<byte> Payload);
