using System.Globalization;
using System.Net;
using System.Text;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// The scenario as one self-contained HTML page (inline CSS and SVG, no script, no external file or
/// font): the verdict and the five answers beside the numbers behind them, and three charts with
/// the disruption shaded — each shard's leader second by second coloured by data centre, answered and
/// failed requests per second per node, and each node's click count of the hot links converging.
/// </summary>
public static class ScenarioReport
{
    private const int Width = 900;
    private const int Left = 70;
    private const int Right = 20;
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"];

    public static string Render(ScenarioFindings findings, ScenarioEvidence evidence)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(evidence.EndMs / 1000.0));
        var dcs = evidence.DcOf.Values.Distinct().Order(StringComparer.Ordinal).ToList();
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shortener · ").Append(E(findings.Scenario)).Append("</title>\n")
            .Append("<style>body{font:14px system-ui,sans-serif;margin:1.5em auto;max-width:960px;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}")
            .Append("table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}")
            .Append(".ok{color:#176f2c;font-weight:600}.bad{color:#b00020;font-weight:600}svg{display:block;margin:.4em 0}svg text{font:11px system-ui,sans-serif;fill:#444}")
            .Append("ol li{margin:.4em 0}.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}</style></head><body>\n");
        html.Append("<h1>").Append(E(findings.Scenario)).Append(": ").Append(E(findings.Disruption)).Append("</h1>\n")
            .Append("<p class=\"").Append(findings.Passed ? "ok" : "bad").Append("\" id=\"verdict\">").Append(findings.Passed ? "PASSED: every check held." : "FAILED: a check did not hold.").Append("</p>\n");

        html.Append("<table id=\"checks\"><tr><th>check</th><th>result</th></tr>\n");
        Check(html, "history linearizable (every link)", findings.Linearizable, findings.Linearizable ? "yes" : "no");
        Check(html, "acknowledged writes lost", findings.AcknowledgedWritesLost == 0, findings.AcknowledgedWritesLost.ToString(CultureInfo.InvariantCulture));
        Check(html, "click totals equal the redirects answered, on every node", findings.ClicksExact, $"{(findings.ClicksExact ? "yes" : "no")} ({findings.RedirectsAnswered} answered)");
        Check(html, "most leaders of one shard in one term", findings.MaxLeadersInOneTerm <= 1, findings.MaxLeadersInOneTerm.ToString(CultureInfo.InvariantCulture));
        html.Append("</table>\n<h2>The five questions</h2>\n<ol id=\"answers\">");
        foreach (var answer in findings.Answers)
        {
            html.Append("<li>").Append(E(answer)).Append("</li>");
        }

        html.Append("</ol>\n");

        html.Append("<h2>Who led each shard, second by second</h2>\n");
        Legend(html, dcs.Select((dc, i) => (dc, Palette[i % Palette.Length])).Append(("no leader known", "#ddd")).Append(("the disruption", "rgba(176,0,32,.15)")).Append(("a leader elected (journal)", "#222")));
        LeaderChart(html, findings, evidence, dcs, seconds);

        var nodes = evidence.DcOf.Keys.Order().ToList();
        html.Append("<h2>Requests answered per second, by node</h2>\n");
        Legend(html, nodes.Select((n, i) => ($"node {n} ({evidence.DcOf[n]}) answered", Palette[i % Palette.Length])).Append(("refused or no answer (dashed)", "#888")));
        var perSecond = nodes.Select(n => (Node: n, Ok: PerSecond(evidence, n, ScenarioOutcome.Ok, seconds), Failed: PerSecond(evidence, n, null, seconds))).ToList();
        var series = perSecond.SelectMany((p, i) => new[] { (Points: p.Ok, Colour: Palette[i % Palette.Length], Dashed: false), (Points: p.Failed, Colour: Palette[i % Palette.Length], Dashed: true) }).ToList();
        LineChart(html, "requests", series, evidence, seconds, "requests/s");

        html.Append("<h2>Clicks of the hot links, as each node counts them</h2>\n");
        Legend(html, nodes.Select((n, i) => ($"node {n} ({evidence.DcOf[n]})", Palette[i % Palette.Length])));
        var clicks = nodes.Select((n, i) => (
            Points: (IReadOnlyList<(double X, double Y)>)evidence.ClickSamples.Where(c => c.Node == n && c.Total >= 0).OrderBy(c => c.AtMs).Select(c => (c.AtMs / 1000.0, (double)c.Total)).ToList(),
            Colour: Palette[i % Palette.Length],
            Dashed: false)).ToList();
        LineChart(html, "clicks", clicks, evidence, seconds, "clicks");

        html.Append("<p><small>Times are seconds since the scenario started: requests and samples on its client's clock, journal entries on the nodes' hybrid logical clocks. Numbers behind every answer: <code>shortener scenario ")
            .Append(E(findings.Scenario)).Append(" --json</code>; how each is computed: docs/scenario.md.</small></p>\n</body></html>\n");
        return html.ToString();
    }

    private static void Check(StringBuilder html, string name, bool ok, string value) =>
        html.Append("<tr><td>").Append(E(name)).Append("</td><td class=\"").Append(ok ? "ok" : "bad").Append("\">").Append(E(value)).Append("</td></tr>\n");

    private static void Legend(StringBuilder html, IEnumerable<(string Name, string Colour)> items)
    {
        html.Append("<p class=\"legend\">");
        foreach (var (name, colour) in items)
        {
            html.Append("<span><i style=\"background:").Append(colour).Append("\"></i>").Append(E(name)).Append("</span>");
        }

        html.Append("</p>\n");
    }

    private static void LeaderChart(StringBuilder html, ScenarioFindings findings, ScenarioEvidence evidence, IReadOnlyList<string> dcs, int seconds)
    {
        const int row = 18;
        var shards = findings.LeaderBySecond.OrderBy(s => int.Parse(s.Key, CultureInfo.InvariantCulture)).ToList();
        var height = (shards.Count * row) + 30;
        var scale = (Width - Left - Right) / (double)seconds;
        var colourOf = dcs.Select((dc, i) => (dc, i)).ToDictionary(d => d.dc, d => Palette[d.i % Palette.Length]);
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"leaders\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\" aria-label=\"leader of each shard per second\">");
        for (var i = 0; i < shards.Count; i++)
        {
            var y = i * row;
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y + 13}\" text-anchor=\"end\">shard {E(shards[i].Key)}</text>");
            var timeline = shards[i].Value;
            for (var s = 0; s < timeline.Count && s < seconds; s++)
            {
                var leader = timeline[s];
                var colour = leader != 0 && evidence.DcOf.TryGetValue(leader, out var dc) ? colourOf[dc] : "#ddd";
                html.Append(CultureInfo.InvariantCulture, $"<rect class=\"lead\" x=\"{Left + (s * scale):0.#}\" y=\"{y + 2}\" width=\"{Math.Max(1, scale - 0.5):0.#}\" height=\"{row - 4}\" fill=\"{colour}\"><title>shard {E(shards[i].Key)}, second {s}: {(leader == 0 ? "no leader known" : $"node {leader}")}</title></rect>");
            }
        }

        // Each leadership the journals record, at its hybrid-logical-clock time: the sampled bars
        // show who led; the ticks show when, in causal order across nodes.
        var rowOf = shards.Select((s, i) => (s.Key, i)).ToDictionary(s => s.Key, s => s.i);
        foreach (var e in evidence.Journal.Where(ScenarioFindings.IsLeadership))
        {
            if (rowOf.TryGetValue(e.Shard!.Value.ToString(CultureInfo.InvariantCulture), out var i) && e.AtMs < seconds * 1000L)
            {
                var x = Left + (e.AtMs / 1000.0 * scale);
                html.Append(CultureInfo.InvariantCulture, $"<path class=\"elected\" d=\"M{x:0.#},{(i * row) + 1} l3,4 l-3,4 l-3,-4 z\" fill=\"#222\"><title>node {e.Node} became leader of shard {e.Shard} in term {e.Term} at {e.AtMs / 1000.0:0.000} s (HLC {e.Hlc})</title></path>");
            }
        }

        Cut(html, evidence, scale, height - 30);
        Axis(html, seconds, scale, height - 26);
        html.Append("</svg>\n");
    }

    private static void LineChart(StringBuilder html, string id, IReadOnlyList<(IReadOnlyList<(double X, double Y)> Points, string Colour, bool Dashed)> series, ScenarioEvidence evidence, int seconds, string unit)
    {
        const int plot = 180;
        var height = plot + 30;
        var max = Math.Max(1, series.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(0).Max());
        var scale = (Width - Left - Right) / (double)seconds;
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\" aria-label=\"{E(unit)} over time\">");
        Cut(html, evidence, scale, plot);
        html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{plot}\" x2=\"{Width - Right}\" y2=\"{plot}\" stroke=\"#999\"/><text x=\"{Left - 8}\" y=\"10\" text-anchor=\"end\">{Num(max)}</text><text x=\"{Left - 8}\" y=\"{plot}\" text-anchor=\"end\">0</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{plot / 2}\" text-anchor=\"end\">{E(unit)}</text>");
        foreach (var (points, colour, dashed) in series.Where(s => s.Points.Count > 0))
        {
            var path = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{Left + (p.X * scale):0.#},{plot - (p.Y / max * (plot - 10)):0.#}")));
            html.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series\" points=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"{(dashed ? " stroke-dasharray=\"4 3\"" : string.Empty)}/>");
        }

        Axis(html, seconds, scale, plot + 4);
        html.Append("</svg>\n");
    }

    /// <summary>Per second, the node's requests that ended <paramref name="outcome"/> (null: not acknowledged), plotted at the second's middle.</summary>
    private static IReadOnlyList<(double X, double Y)> PerSecond(ScenarioEvidence evidence, ulong node, ScenarioOutcome? outcome, int seconds)
    {
        var counts = new int[seconds];
        foreach (var o in evidence.Operations.Where(o => o.Node == node && o.Worker >= 0 && o.Worker < ScenarioEvidence.FinalReadWorker))
        {
            var second = (int)(o.ReturnMs / 1000);
            if (second < seconds && (outcome is { } wanted ? o.Outcome == wanted : o.Outcome != ScenarioOutcome.Ok))
            {
                counts[second]++;
            }
        }

        return counts.Select((c, s) => (s + 0.5, (double)c)).ToList();
    }

    private static void Cut(StringBuilder html, ScenarioEvidence evidence, double scale, int height) =>
        html.Append(CultureInfo.InvariantCulture, $"<rect class=\"cut\" x=\"{Left + (evidence.DisruptionStartMs / 1000.0 * scale):0.#}\" y=\"0\" width=\"{(evidence.DisruptionEndMs - evidence.DisruptionStartMs) / 1000.0 * scale:0.#}\" height=\"{height}\" fill=\"rgba(176,0,32,.15)\"><title>{E(evidence.Disruption.Description)}</title></rect>");

    private static void Axis(StringBuilder html, int seconds, double scale, int y)
    {
        var step = seconds <= 30 ? 5 : seconds <= 120 ? 10 : 30;
        for (var s = 0; s <= seconds; s += step)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (s * scale):0.#}\" y=\"{y + 14}\" text-anchor=\"middle\">{s} s</text>");
        }
    }

    private static string Num(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
