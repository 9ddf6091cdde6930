using Shortener.Core.Replication;

namespace Shortener.Core.Links;

/// <summary>
/// Applies a batch of link commands in order, the one way every store does it: a proposal applied
/// before is skipped as a duplicate and answered with its first result; each command runs on its
/// own, and one that the data refuses (<paramref name="isRefusal"/>) is undone alone and reported in
/// its slot. Any other error propagates, and the caller's transaction commits nothing.
/// </summary>
public static class LinkBatch
{
    /// <summary>Decodes a batch of replicated commands into their envelopes and proposal ids, in order.</summary>
    public static (LinkCommandEnvelope[] Envelopes, ProposalId[] Ids) Decode(IReadOnlyList<ProposedCommand> commands)
    {
        var envelopes = new LinkCommandEnvelope[commands.Count];
        var ids = new ProposalId[commands.Count];
        for (var i = 0; i < commands.Count; i++)
        {
            envelopes[i] = LinkCommandCodec.Decode(commands[i].Payload.Span);
            ids[i] = commands[i].Id;
        }

        return (envelopes, ids);
    }

    public static IReadOnlyList<BatchItemResult> Apply(ILinkTableTransaction table, IReadOnlyList<LinkCommandEnvelope> envelopes, IReadOnlyList<ProposalId>? proposals, Func<Exception, bool> isRefusal)
    {
        if (proposals is not null && proposals.Count != envelopes.Count)
        {
            throw new ArgumentException("one proposal id per command", nameof(proposals));
        }

        var results = new BatchItemResult[envelopes.Count];
        for (var i = 0; i < envelopes.Count; i++)
        {
            if (proposals is not null && table.FindProposal(proposals[i]) is { Applied: true } earlier)
            {
                results[i] = new BatchItemResult(earlier.Result, null, Duplicate: true);
                continue;
            }

            table.BeginCommand();
            try
            {
                results[i] = new BatchItemResult(LinkStateMachine.Apply(table, envelopes[i]), null);
                table.CommitCommand();
            }
            catch (Exception e) when (isRefusal(e))
            {
                table.RollbackCommand();
                results[i] = new BatchItemResult(null, e);
            }

            if (proposals is not null)
            {
                table.RecordProposal(proposals[i], envelopes[i].Command.At, results[i].Result);
            }
        }

        return results;
    }
}
