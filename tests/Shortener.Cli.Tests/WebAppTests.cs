using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using Shortener.Node.Hosting;

namespace Shortener.Cli.Tests;

/// <summary>The web app at /app (Shlink's web component over /rest/v3), driven in headless Chromium as a user would.</summary>
public sealed class WebAppTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Key = "web-app-test-key-0123456789";
    private readonly TempDirectory _dir = new();
    private WebApplication _node = null!;
    private string _base = null!;

    public async Task InitializeAsync()
    {
        var builder = ShortenerNodeApp.CreateBuilder([], new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Shortener:DataDir"] = _dir.Path,
            ["Shortener:ApiKey"] = Key,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        _node = ShortenerNodeApp.Build(builder);
        await _node.StartAsync();
        _base = _node.Urls.First().TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        await _node.StopAsync();
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [SkippableFact]
    public async Task Log_in_create_a_link_follow_it_and_see_the_visit_in_its_chart()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is not installed (.ci/run installs it: apt-get install chromium)");
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_base) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/app/")).StatusCode);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync();
        // Generous: in a full test run the simulator tests keep both cores busy beside this browser.
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(_base + "/app/");

        // A wrong key is refused on the login form; the right one opens the app.
        await page.GetByTestId("api-key-input").FillAsync("not-the-key");
        await page.GetByTestId("login-button").ClickAsync();
        await Assertions.Expect(page.GetByTestId("login-error")).ToContainTextAsync("401");
        await page.GetByTestId("api-key-input").FillAsync(Key);
        await page.GetByTestId("login-button").ClickAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Create short URL" }).ClickAsync();
        await page.GetByPlaceholder(new System.Text.RegularExpressions.Regex("URL to be shortened", System.Text.RegularExpressions.RegexOptions.IgnoreCase)).FillAsync("https://example.org/from-the-browser");
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Save") }).ClickAsync();

        // The link exists in the cluster; follow it as a visitor would.
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);
        string? code = null;
        for (var i = 0; i < 100 && code is null; i++)
        {
            var list = await http.GetFromJsonAsync<JsonElement>("/rest/v3/short-urls?searchTerm=from-the-browser");
            code = list.GetProperty("shortUrls").GetProperty("data").EnumerateArray().Select(u => u.GetProperty("shortCode").GetString()).FirstOrDefault();
            await Task.Delay(code is null ? 100 : 0);
        }

        Assert.NotNull(code);
        var redirect = await new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }).GetAsync($"{_base}/{code}");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("https://example.org/from-the-browser", redirect.Headers.Location!.OriginalString);
        for (var i = 0; i < 100; i++)
        {
            var visits = await http.GetFromJsonAsync<JsonElement>($"/rest/v3/short-urls/{code}/visits");
            if (visits.GetProperty("visits").GetProperty("pagination").GetProperty("totalItems").GetInt32() == 1)
            {
                break;
            }

            await Task.Delay(100);
        }

        await page.GotoAsync($"{_base}/app/#/short-code/{code}/visits");
        await Assertions.Expect(page.GetByTestId("badge").First).ToContainTextAsync("Visits: 1");
        await Assertions.Expect(page.Locator(".recharts-surface").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("There are no visits matching current filter")).ToHaveCountAsync(0);
    }
}
