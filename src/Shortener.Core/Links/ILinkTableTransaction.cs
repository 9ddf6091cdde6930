using Shortener.Core.Changes;
using Shortener.Core.Replication;

namespace Shortener.Core.Links;

/// <summary>
/// An <see cref="ILinkTable"/> inside one batch's transaction, as <see cref="LinkBatch"/> uses it:
/// each command runs between <see cref="BeginCommand"/> and <see cref="CommitCommand"/> (or
/// <see cref="RollbackCommand"/>, which undoes that command alone), and the proposals applied
/// are remembered, so a re-proposed command applies once.
/// </summary>
public interface ILinkTableTransaction : ILinkTable
{
    void BeginCommand();

    void CommitCommand();

    void RollbackCommand();

    /// <summary>Whether <paramref name="id"/> was applied before, and the result it had then (null if it failed).</summary>
    (bool Applied, CommandResult? Result) FindProposal(ProposalId id);

    /// <summary>Notes that <paramref name="id"/> was applied (at command time <paramref name="at"/>, purged with idempotency records), with its result.</summary>
    void RecordProposal(ProposalId id, long at, CommandResult? result);

    /// <summary>Keeps the change a command made (inside the command: undone with it), for the change feed.</summary>
    void AppendChange(LinkChange change);
}
