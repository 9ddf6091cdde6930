using Shortener.Core.Clicks;
using Shortener.Core.Links;
using Shortener.Core.Quorum;
using Shortener.Node.Clicks;

namespace Shortener.Node.Api.Shlink;

/// <summary>The click store could not answer a visits read, even at consistency ONE.</summary>
public sealed class VisitsUnavailableException(string message) : Exception(message);

/// <summary>One visit as Shlink shows it; <see cref="VisitLocation"/> is always null here (see <see cref="ShlinkVisits"/>).</summary>
public sealed record ShlinkVisit(string Referer, string Date, string UserAgent, object? VisitLocation, bool PotentialBot, string VisitedUrl, string RedirectUrl);

/// <summary>
/// The visits the Shlink API shows, read from the click store. The store keeps a link's clicks per
/// UTC day (people and bots apart; whole clicks only until the day is sealed), so a visit list is
/// made from those counts: one entry per click, dated at its day's start, without user agent,
/// referrer or location. Counts and their days are exact; the rest is not kept per click.
/// A read goes at the node's default level and, if that fails, once more at ONE.
/// </summary>
public sealed class ShlinkVisits(ClickService clicks, TimeProvider time)
{
    /// <summary>How many links' visits one request reads at most, and how many at once.</summary>
    public const int MaxLinksRead = 1000;
    private const int ConcurrentReads = 8;

    public int Today => ClickEvent.DayOf(time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>A link's clicks per day from its creation (or <paramref name="fromMs"/>) to today (or <paramref name="toMs"/>); empty when click tracking is off.</summary>
    public async Task<IReadOnlyList<ClickDay>> DaysAsync(Link link, long? fromMs, long? toMs, CancellationToken cancellationToken)
    {
        if (!clicks.Enabled)
        {
            return [];
        }

        var from = Math.Max(ClickEvent.DayOf(link.CreatedAt), fromMs is { } f ? ClickEvent.DayOf(f) : int.MinValue);
        var to = Math.Min(Today, toMs is { } t ? ClickEvent.DayOf(t) : int.MaxValue);
        if (from > to)
        {
            return [];
        }

        var done = await clicks.ReadAsync(link.Code, from, to, clicks.DefaultReadLevel, cancellationToken).ConfigureAwait(false);
        if (!done.Ok && clicks.DefaultReadLevel != ConsistencyLevel.One)
        {
            done = await clicks.ReadAsync(link.Code, from, to, ConsistencyLevel.One, cancellationToken).ConfigureAwait(false);
        }

        return done.Ok ? done.Stats!.Days : throw new VisitsUnavailableException($"the visits of '{link.Code}' could not be read: {done.Error}");
    }

    /// <summary>All-time visits of each link, read <see cref="ConcurrentReads"/> at a time.</summary>
    public async Task<IReadOnlyList<ShlinkVisitsSummary>> SummariesAsync(IReadOnlyList<Link> links, CancellationToken cancellationToken)
    {
        var summaries = new ShlinkVisitsSummary[links.Count];
        await Parallel.ForAsync(0, links.Count, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentReads, CancellationToken = cancellationToken }, async (i, ct) =>
            summaries[i] = Summary(await DaysAsync(links[i], null, null, ct).ConfigureAwait(false))).ConfigureAwait(false);
        return summaries;
    }

    /// <summary>The clicks of several links per day, added up.</summary>
    public async Task<IReadOnlyList<ClickDay>> MergedDaysAsync(IReadOnlyList<Link> links, long? fromMs, long? toMs, CancellationToken cancellationToken)
    {
        var all = new IReadOnlyList<ClickDay>[links.Count];
        await Parallel.ForAsync(0, links.Count, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentReads, CancellationToken = cancellationToken }, async (i, ct) =>
            all[i] = await DaysAsync(links[i], fromMs, toMs, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return [.. all.SelectMany(d => d).GroupBy(d => d.Day).Select(g => new ClickDay(g.Key, g.Sum(d => d.Human), g.Sum(d => d.Bots)))];
    }

    /// <summary>The days the cluster's totals cover: ten years, as /api/v1/stats/summary allows at most.</summary>
    public const int TotalDays = 3660;

    /// <summary>Clicks of the whole cluster over the last <see cref="TotalDays"/> days; empty when click tracking is off.</summary>
    public async Task<ShlinkVisitsSummary> ClusterAsync(CancellationToken cancellationToken)
    {
        if (!clicks.Enabled)
        {
            return ShlinkVisitsSummary.Empty;
        }

        var done = await clicks.SummaryAsync(Today - TotalDays + 1, Today, cancellationToken).ConfigureAwait(false);
        return done.Ok
            ? new ShlinkVisitsSummary(done.Summary!.Total, done.Summary.Human, done.Summary.Bots)
            : throw new VisitsUnavailableException($"no node of the click store answered: {done.Error}");
    }

    public static ShlinkVisitsSummary Summary(IReadOnlyList<ClickDay> days) =>
        new(days.Sum(d => d.Human + d.Bots), days.Sum(d => d.Human), days.Sum(d => d.Bots));

    /// <summary>
    /// One page of the visits <paramref name="days"/> count, newest day first and a day's people
    /// before its bots, made only for the page asked; and how many there are in all.
    /// </summary>
    public static ShlinkList<ShlinkVisit> Page(IReadOnlyList<ClickDay> days, bool excludeBots, ShlinkPage page, Func<ShlinkVisit, ShlinkVisit> describe)
    {
        var total = days.Sum(d => d.Human + (excludeBots ? 0 : d.Bots));
        var data = new List<ShlinkVisit>(Math.Min(page.ItemsPerPage, (int)Math.Min(total, int.MaxValue)));
        long skip = page.Skip;
        foreach (var day in days.OrderByDescending(d => d.Day))
        {
            var date = ShlinkJson.Date(day.Day * 86_400_000L);
            foreach (var (count, bot) in new[] { (day.Human, false), (excludeBots ? 0 : day.Bots, true) })
            {
                var skipped = Math.Min(skip, count);
                skip -= skipped;
                for (var i = skipped; i < count && data.Count < page.ItemsPerPage; i++)
                {
                    data.Add(describe(new ShlinkVisit(string.Empty, date, string.Empty, null, bot, string.Empty, string.Empty)));
                }
            }

            if (data.Count == page.ItemsPerPage)
            {
                break;
            }
        }

        var totalItems = (int)Math.Min(total, int.MaxValue);
        return new ShlinkList<ShlinkVisit>(data, ShlinkPagination.Of(page, data.Count, totalItems));
    }
}
