using System.Globalization;
using Shortener.Core.Clicks;
using Shortener.Core.Common;

namespace Shortener.Node.Clicks;

/// <summary>One visit this node served, with its place in the node's outbox order.</summary>
public sealed record Visit(long Seq, ClickEvent Click);

/// <summary>A page of visits and the position to ask from next.</summary>
public sealed record VisitPage(IReadOnlyList<Visit> Visits, VisitPosition Next);

/// <summary>A place in one node's visits stream: <c>node:sequence</c> (the outbox sequence of the last visit had).</summary>
public readonly record struct VisitPosition(ulong Node, long Seq)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Node}:{Seq}");

    public static VisitPosition? Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
               && ulong.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var node)
               && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            ? new VisitPosition(node, seq)
            : null;
    }
}

/// <summary>The position is older than the visits this node still holds in memory.</summary>
public sealed class VisitsExpiredException(long coveredAfter)
    : Exception($"this node holds its visits after {coveredAfter.ToString(CultureInfo.InvariantCulture)} only; read the link stats for what came before and follow from the newest")
{
}

/// <summary>
/// The visits this node serves, in real time (docs/cdc.md, the visits stream): each click in the
/// order of the node's click outbox, as it is recorded. Held in memory, bounded: the last
/// <see cref="Capacity"/> visits; the counted history is the click store's (the stats API). Each
/// node has its own stream: follow every node to see every visit.
/// </summary>
public sealed class VisitFeed(ulong node, long lastSequence)
{
    public const int Capacity = 8192;

    // The outbox numbers a click and this log takes it under one lock, so the log's order is the outbox's.
    private readonly Lock _order = new();
    private readonly RecentLog<long, Visit> _log = new(Capacity, lastSequence);

    public ulong Node => node;

    /// <summary>Appends <paramref name="click"/> through <paramref name="append"/> (which returns its outbox sequence, or null when not taken) and follows it.</summary>
    public long? Record(Func<long?> append, ClickEvent click)
    {
        lock (_order)
        {
            var seq = append();
            if (seq is { } taken)
            {
                _log.Append(taken, new Visit(taken, click));
            }

            return seq;
        }
    }

    /// <summary>Completes at the next visit.</summary>
    public Task WhenChangedAsync() => _log.WhenChangedAsync();

    /// <summary>The position before every visit still held (a consumer with no position starts here).</summary>
    public VisitPosition Oldest => new(node, _log.CoveredAfter);

    /// <summary>Up to <paramref name="limit"/> visits after <paramref name="after"/>; throws <see cref="VisitsExpiredException"/> for a position older than what is held.</summary>
    public VisitPage Read(VisitPosition after, int limit)
    {
        if (!_log.TryRead(after.Seq, limit, out var visits))
        {
            throw new VisitsExpiredException(_log.CoveredAfter);
        }

        return new VisitPage(visits, visits.Count == 0 ? after : after with { Seq = visits[^1].Seq });
    }
}
