using Shortener.Core.Changes;
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
    /// <summary>Decodes a batch of replicated commands into their envelopes, proposal ids and log entries, in order.</summary>
    public static (LinkCommandEnvelope[] Envelopes, ProposalId[] Ids, LogEntryStamp[] Entries) Decode(IReadOnlyList<ProposedCommand> commands)
    {
        var envelopes = new LinkCommandEnvelope[commands.Count];
        var ids = new ProposalId[commands.Count];
        var entries = new LogEntryStamp[commands.Count];
        for (var i = 0; i < commands.Count; i++)
        {
            envelopes[i] = LinkCommandCodec.Decode(commands[i].Payload.Span);
            ids[i] = commands[i].Id;
            entries[i] = new LogEntryStamp(commands[i].Index, commands[i].Term);
        }

        return (envelopes, ids, entries);
    }

    /// <summary>
    /// Applies the batch. With <paramref name="entries"/> (the log entry of each command) every link
    /// change is kept with its offset in <paramref name="shard"/>'s log, in the command's own
    /// undo scope (<see cref="LinkChanges"/>); without (a store used outside a log), none is.
    /// </summary>
    public static IReadOnlyList<BatchItemResult> Apply(
        ILinkTableTransaction table,
        IReadOnlyList<LinkCommandEnvelope> envelopes,
        IReadOnlyList<ProposalId>? proposals,
        Func<Exception, bool> isRefusal,
        int shard = 0,
        IReadOnlyList<LogEntryStamp>? entries = null)
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
                var command = envelopes[i].Command;
                var before = entries is not null && CodeOf(command) is { } code ? table.Find(code) : null;
                var result = LinkStateMachine.Apply(table, envelopes[i], entries?[i].Index ?? 0);
                LinkChange? change = null;
                if (entries is not null && !result.Replayed)
                {
                    var offset = new ChangeOffset(shard, entries[i].Index, PositionInEntry(entries, i));
                    var hlc = envelopes[i].Hlc is { } packed ? Clocks.HlcTimestamp.Unpack(packed) : default;
                    change = LinkChanges.Of(command, before, result, offset, entries[i].Term, hlc);
                    if (change is not null)
                    {
                        table.AppendChange(change);
                    }
                }

                results[i] = new BatchItemResult(result, null, Change: change);
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

    /// <summary>
    /// The code whose link a change event shows as it was before the command: changes and deletes
    /// only (a create's is none, and looking it up would read the table twice on the create path).
    /// </summary>
    private static string? CodeOf(LinkCommand command) => command switch
    {
        UpdateLink u => u.Code,
        DeleteLink d => d.Code,
        ResolveIntent r => r.Code,
        _ => null,
    };

    /// <summary>The place of command <paramref name="i"/> among the commands its log entry carries.</summary>
    private static int PositionInEntry(IReadOnlyList<LogEntryStamp> entries, int i)
    {
        var position = 0;
        for (var j = i - 1; j >= 0 && entries[j].Index == entries[i].Index; j--)
        {
            position++;
        }

        return position;
    }
}

/// <summary>The log entry a replicated command came in: its index and term.</summary>
public readonly record struct LogEntryStamp(ulong Index, ulong Term);
