using System.Globalization;
using System.Net;
using System.Text;
using Shortener.Core.Clicks;
using Shortener.Node.Clicks;

namespace Shortener.Node.Api;

/// <summary>
/// The dashboard as one HTML page, rendered on the node from the same figures as
/// /admin/v1/cluster and /api/v1/stats/summary: no script, a meta refresh, every value encoded.
/// Pure (a function of its inputs), so tests can read what an operator sees.
/// </summary>
public static class DashboardPage
{
    /// <summary>What the page shows of clicks: the summary of the last days, or why there is none.</summary>
    public sealed record Clicks(ClickFigures Figures, ClickSummary? Summary, string? SummaryError, string From, string To);

    /// <summary>What the page shows of the sinks: their delivery, or why it could not be read.</summary>
    public sealed record Sinks(IReadOnlyList<Shortener.Node.Sinks.SinkStatus>? Status, string? Error);

    public static string Render(ClusterView view, Clicks? clicks, int refreshSeconds, DateTimeOffset now, Sinks? sinks = null)
    {
        var html = new StringBuilder(8192);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"refresh\" content=\"{refreshSeconds}\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append(CultureInfo.InvariantCulture, $"<title>Shortener · node {view.Node}</title>")
            .Append("<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}")
            .Append("th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .Append(".alive,.leader{color:#176f2c;font-weight:600}.suspect,.candidate{color:#a15c00;font-weight:600}.dead,.failed,.bad{color:#b00020;font-weight:600}")
            .Append("small{color:#666}</style></head><body>\n");

        html.Append(CultureInfo.InvariantCulture, $"<h1>Shortener · node {view.Node} ({E(view.Dc)})</h1>\n<p><small>")
            .Append(CultureInfo.InvariantCulture, $"{E(now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))} UTC · refreshes every {refreshSeconds} s · ")
            .Append(CultureInfo.InvariantCulture, $"member list version {view.MembersVersion} · replication factor {view.ReplicationFactor} · faults injected: ")
            .Append(view.Faults.Length == 0 ? "none" : E(view.Faults))
            .Append(" · <a href=\"/metrics\">metrics</a> · <a href=\"/admin/v1/cluster\">cluster JSON</a></small></p>\n");

        Faults(html, view);
        Members(html, view);
        Shards(html, view);
        if (sinks is not null)
        {
            SinkSection(html, sinks);
        }

        if (clicks is not null)
        {
            ClickSection(html, clicks);
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Members(StringBuilder html, ClusterView view)
    {
        var gossip = (view.Gossip ?? []).ToDictionary(g => g.Id);
        html.Append("<h2>Members</h2>\n<table id=\"members\"><tr><th>node</th><th>DC</th><th>gossip</th><th>phi</th><th>incarnation</th><th>shards led</th><th>address</th></tr>\n");
        foreach (var member in view.Members)
        {
            var seen = gossip.GetValueOrDefault(member.Id);
            var status = member.Id == view.Node ? "self" : seen?.Status ?? "unknown";
            var led = view.Shards.Count(s => s.Leader == member.Id);
            html.Append(CultureInfo.InvariantCulture, $"<tr data-node=\"{member.Id}\"><td>{member.Id}{(member.Leaving ? " <small>(leaving)</small>" : string.Empty)}</td><td>{E(member.Dc)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"{E(status)}\">{E(status)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{(seen is null || member.Id == view.Node ? "–" : seen.Phi.ToString("0.0", CultureInfo.InvariantCulture))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{(seen is null ? "–" : seen.Incarnation.ToString(CultureInfo.InvariantCulture))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{led}</td><td><a href=\"{E(member.HttpUrl)}/dashboard\">{E(member.HttpUrl)}</a></td></tr>\n");
        }

        html.Append("</table>\n");
    }

    /// <summary>The faults injected on this node, each with the time it has left; nothing when there are none.</summary>
    private static void Faults(StringBuilder html, ClusterView view)
    {
        if (view.ActiveFaults is not { Count: > 0 } faults)
        {
            return;
        }

        html.Append("<h2>Injected faults</h2>\n<table id=\"faults\"><tr><th>fault</th><th>what</th><th>left</th></tr>\n");
        foreach (var fault in faults)
        {
            var left = fault.RemainingMs is { } ms ? (ms / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s" : "until healed";
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"bad\">{E(fault.Kind)}</td><td>{E(fault.Detail)}</td><td class=\"n\">{E(left)}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Shards(StringBuilder html, ClusterView view)
    {
        html.Append("<h2>Shards (this node's replicas)</h2>\n<table id=\"shards\"><tr><th>shard</th><th>role here</th><th>leader</th><th>term</th><th>commit</th><th>applied</th><th>snapshot</th><th>voters</th><th>learners</th><th>lag behind leader</th></tr>\n");
        foreach (var shard in view.Shards)
        {
            var role = shard.Failed ? "failed" : shard.Role;
            var lag = shard.Lag is null ? "–" : string.Join(", ", shard.Lag.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}: {l.Value}"));
            html.Append(CultureInfo.InvariantCulture, $"<tr data-shard=\"{shard.Shard}\"><td>{shard.Shard}</td><td class=\"{E(role)}\">{E(role)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n{(shard.Leader == 0 ? " bad" : string.Empty)}\">{(shard.Leader == 0 ? "none" : shard.Leader.ToString(CultureInfo.InvariantCulture))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{shard.Term}</td><td class=\"n\">{shard.Commit}</td><td class=\"n\">{shard.Applied}</td><td class=\"n\">{shard.SnapshotIndex}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{string.Join(",", shard.Voters)}</td><td>{string.Join(",", shard.Learners)}</td><td>{E(lag)}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void SinkSection(StringBuilder html, Sinks sinks)
    {
        html.Append("<h2>Sinks</h2>\n");
        if (sinks.Status is not { } status)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\" id=\"sinks-error\">Not read: {E(sinks.Error ?? "unknown error")}</p>\n");
            return;
        }

        if (status.Count == 0)
        {
            html.Append("<p id=\"sinks\"><small>none (shortener sinks add)</small></p>\n");
            return;
        }

        html.Append("<table id=\"sinks\"><tr><th>sink</th><th>kind</th><th>target</th><th>lag (events)</th><th>oldest undelivered</th><th>dead letters</th><th>delivering nodes</th></tr>\n");
        foreach (var sink in status)
        {
            var dead = sink.Shards.Sum(s => s.DeadLetters);
            var holders = string.Join(", ", sink.Shards.Select(s => s.Holder).Where(h => h != 0).Distinct().Order());
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(sink.Sink.Name)}</td><td>{E(sink.Sink.Kind.ToString().ToLowerInvariant())}</td><td>{E(sink.Sink.Url)}{(sink.Sink.Stream is { } stream ? " · " + E(stream) : string.Empty)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n{(sink.LagEvents > 0 ? " bad" : string.Empty)}\">{sink.LagEvents}</td><td class=\"n\">{sink.LagMs} ms</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n{(dead > 0 ? " bad" : string.Empty)}\">{dead}</td><td>{(holders.Length == 0 ? "none" : E(holders))}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void ClickSection(StringBuilder html, Clicks clicks)
    {
        var f = clicks.Figures;
        html.Append("<h2>Clicks</h2>\n<table id=\"click-pipeline\"><tr><th>outbox depth</th><th>hints pending</th><th>stored here</th><th>shipped</th><th>relay failures</th><th>lost</th><th>sealed</th><th>late</th><th>read repairs</th></tr>\n")
            .Append(CultureInfo.InvariantCulture, $"<tr><td class=\"n\">{f.OutboxDepth}</td><td class=\"n\">{f.HintsPending}</td><td class=\"n\">{f.Stored}</td><td class=\"n\">{f.Shipped}</td>")
            .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{f.RelayFailures}</td><td class=\"n{(f.Lost > 0 ? " bad" : string.Empty)}\">{f.Lost}</td>")
            .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{f.Node.ClicksSealed}</td><td class=\"n\">{f.Node.LateClicks}</td><td class=\"n\">{f.Node.ReadRepairs}</td></tr>\n</table>\n");

        html.Append(CultureInfo.InvariantCulture, $"<h3>Whole cluster, {E(clicks.From)} to {E(clicks.To)}</h3>\n");
        if (clicks.Summary is not { } s)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\" id=\"click-summary-error\">No summary: {E(clicks.SummaryError ?? "unknown error")}</p>\n");
            return;
        }

        html.Append(CultureInfo.InvariantCulture, $"<p id=\"click-summary\"><b>{s.Total}</b> clicks: {s.Human} by people, {s.Bots} by bots")
            .Append(CultureInfo.InvariantCulture, $" <small>({s.Answered} of {s.Asked} nodes answered{(s.RangesCovered == s.Ranges ? string.Empty : $"; {s.Ranges - s.RangesCovered} of {s.Ranges} ring ranges had no replica answer, so this may count short")})</small></p>\n");
        if (s.TopLinks.Count == 0)
        {
            return;
        }

        html.Append("<table id=\"top-links\"><tr><th>link</th><th>clicks</th><th>people</th><th>bots</th></tr>\n");
        foreach (var link in s.TopLinks)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"/api/v1/links/{E(Uri.EscapeDataString(link.Code))}/stats\">{E(link.Code)}</a></td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\">{link.Total}</td><td class=\"n\">{link.Human}</td><td class=\"n\">{link.Bots}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
