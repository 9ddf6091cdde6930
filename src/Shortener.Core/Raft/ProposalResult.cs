namespace Shortener.Core.Raft;

/// <summary>What became of a proposal at this node. <see cref="LeaderHint"/> is the known leader (0 if none).</summary>
public sealed record ProposalResult(ProposalStatus Status, ulong Index = 0, ulong Term = 0, ulong LeaderHint = 0, string? Reason = null)
{
    public bool Accepted => Status is ProposalStatus.Appended or ProposalStatus.Forwarded;
}
