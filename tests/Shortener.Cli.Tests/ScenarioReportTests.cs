using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shortener.Cli.Scenarios;

namespace Shortener.Cli.Tests;

/// <summary>The scenario's HTML report: self-contained, and its charts drawn when a real browser opens it.</summary>
public sealed partial class ScenarioReportTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_report_is_one_self_contained_page_with_the_verdict_the_answers_and_three_charts()
    {
        var html = Render();

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(External(), html);
        Assert.Contains("PASSED: every check held.", html);
        Assert.Equal(5, Regex.Count(html, "<li>"));
        foreach (var chart in new[] { "leaders", "requests", "clicks" })
        {
            Assert.Contains($"<svg id=\"{chart}\"", html);
        }

        // One cell per shard and second (one shard, 40 s), the cut shaded on every chart, a line per node and outcome.
        Assert.Equal(40, Regex.Count(html, "<rect class=\"lead\""));
        Assert.Equal(3, Regex.Count(html, "<rect class=\"cut\""));
        Assert.Equal(3 * 2 + 2, Regex.Count(html, "<polyline class=\"series\""));
        Assert.Contains("<title>dc3 cut off</title>", html);

        // The journals' two leaderships of shard 0 are ticks at their clock times.
        Assert.Equal(2, Regex.Count(html, "<path class=\"elected\""));
        Assert.Contains("node 1 became leader of shard 0 in term 2 at 11.400 s", html);
    }

    [Fact]
    public void Text_from_the_cluster_is_escaped()
    {
        var evidence = ScenarioFindingsTests.Evidence(ScenarioFindingsTests.CleanHistory(), ScenarioFindingsTests.CleanSamples(), ScenarioFindingsTests.Clicks(5, 5, 5)) with { Disruption = new("<b>dc3</b> cut off", "<b>dc3</b>", [3], []) };
        var html = ScenarioReport.Render(ScenarioFindings.From(evidence), evidence);
        Assert.DoesNotContain("<b>dc3</b>", html);
        Assert.Contains("&lt;b&gt;dc3&lt;/b&gt;", html);
    }

    [SkippableFact]
    public async Task Headless_chromium_draws_every_chart()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is not installed (.ci/run installs it: apt-get install chromium)");
        var path = Path.Combine(_dir.Path, "report.html");
        await File.WriteAllTextAsync(path, Render());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(path).AbsoluteUri);

        foreach (var chart in new[] { "#leaders", "#requests", "#clicks" })
        {
            var box = await page.Locator(chart).BoundingBoxAsync();
            Assert.True(box is { Width: > 800, Height: > 30 }, $"{chart} has no size on the page");
        }

        // Drawn, not only present: every leader cell and line has a size and a colour in the browser.
        var cells = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('rect.lead')].filter(r => r.getBBox().width > 0 && getComputedStyle(r).fill !== 'none').length");
        Assert.Equal(40, cells);
        var lines = await page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('polyline.series')].map(p => p.getTotalLength())");
        Assert.Equal(8, lines.Length);
        Assert.All(lines, length => Assert.True(length > 100, $"a line only {length} px long"));
        Assert.Equal("PASSED: every check held.", await page.Locator("#verdict").InnerTextAsync());
        Assert.True((await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true })).Length > 10_000);
    }

    private static string Render()
    {
        var evidence = ScenarioFindingsTests.Evidence(ScenarioFindingsTests.CleanHistory(), ScenarioFindingsTests.CleanSamples(), ScenarioFindingsTests.Clicks(5, 5, 5));
        return ScenarioReport.Render(ScenarioFindings.From(evidence), evidence);
    }

    [GeneratedRegex("""(src|href)\s*=\s*["']?(https?:)?//""", RegexOptions.IgnoreCase)]
    private static partial Regex External();
}
