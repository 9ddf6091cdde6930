namespace Shortener.Core.Replication;

/// <summary>
/// What became of a proposal: applied here with its <see cref="Result"/>, or not answered with one,
/// for <see cref="Failure"/>. <see cref="MayHaveApplied"/> says whether a copy was handed to Raft,
/// so it may still commit: a timeout is "unknown", never "not done".
/// </summary>
public readonly record struct ProposalOutcome<TResult>(bool Applied, TResult? Result, string? Failure, bool MayHaveApplied)
{
    public static ProposalOutcome<TResult> Done(TResult? result) => new(true, result, null, true);

    public static ProposalOutcome<TResult> Failed(string reason, bool mayHaveApplied) => new(false, default, reason, mayHaveApplied);
}
