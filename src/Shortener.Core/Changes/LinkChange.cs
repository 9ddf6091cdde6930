using Shortener.Core.Clocks;
using Shortener.Core.Links;

namespace Shortener.Core.Changes;

/// <summary>
/// One change to a link, as the state machine applied it: the link before and after, at the time
/// the command carries. What a change event is made from; the same on every replica.
/// </summary>
public sealed record LinkChange(ChangeOffset Offset, ulong Term, ChangeOperation Op, Link? Before, Link? After, long AtMs, HlcTimestamp Hlc)
{
    public string Code => (After ?? Before)!.Code;
}

/// <summary>Which applied commands are link changes, and what each records.</summary>
public static class LinkChanges
{
    /// <summary>
    /// The change <paramref name="command"/> made, given the link before it and what applying it
    /// answered; null when it changed no link (a refusal, a repeated delete, a visit count, a lease,
    /// a purge, a cluster document). A committed intent's change is its write's.
    /// </summary>
    public static LinkChange? Of(LinkCommand command, Link? before, CommandResult result, ChangeOffset offset, ulong term, HlcTimestamp hlc = default) =>
        (command, result.Outcome) switch
        {
            (CreateLink, CommandOutcome.Created) => new LinkChange(offset, term, ChangeOperation.Create, null, result.Link, command.At, hlc),
            (UpdateLink, CommandOutcome.Ok) when before is { Deleted: false } => new LinkChange(offset, term, ChangeOperation.Update, before, result.Link, command.At, hlc),
            (DeleteLink, CommandOutcome.Ok) when before is { Deleted: false } => new LinkChange(offset, term, ChangeOperation.Delete, before, null, command.At, hlc),
            (ResolveIntent, _) when result.Resolved is { } write => Of(write, before, result, offset, term, hlc),
            _ => null,
        };

    /// <summary>A link as a snapshot read shows it (<c>op: r</c>), at <paramref name="offset"/>, the point the snapshot was read at.</summary>
    public static LinkChange Read(Link link, ChangeOffset offset, ulong term, long atMs) =>
        new(offset, term, ChangeOperation.Read, null, link, atMs, default);
}
