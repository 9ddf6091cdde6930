namespace Shortener.Core.Replication;

/// <summary>
/// Names one proposal across its re-proposals: <see cref="Proposer"/> is a number a replica draws
/// each time its process starts, <see cref="Sequence"/> counts that process's proposals. A proposal
/// made before a restart is never mistaken for one made after.
/// </summary>
public readonly record struct ProposalId(ulong Proposer, ulong Sequence)
{
    public override string ToString() => $"{Proposer:x16}/{Sequence}";
}
