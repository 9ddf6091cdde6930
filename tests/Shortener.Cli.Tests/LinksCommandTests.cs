using System.Net;
using System.Text.Json;
using Shortener.Cli.Client;
using Shortener.Node.Tests;

namespace Shortener.Cli.Tests;

public sealed class LinksCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Create_get_update_list_delete_round_trip()
    {
        var (exit, output, error) = await Run("links", "create", "https://example.com/cli", "--alias", "cli-link", "--tag", "a", "--tag", "b", "--expires", "7d", "--max-visits", "9", "--status", "307", "--title", "From the CLI");
        Assert.True(exit == 0, error);
        Assert.Contains($"{_node.BaseUrl}/cli-link -> https://example.com/cli", output);
        Assert.Contains("visits 0/9", output);
        Assert.Contains("tags a,b", output);

        (exit, output, _) = await Run("links", "get", "cli-link", "--json");
        Assert.Equal(0, exit);
        var link = JsonDocument.Parse(output).RootElement;
        Assert.Equal(307, link.GetProperty("redirectStatus").GetInt32());
        Assert.Equal("From the CLI", link.GetProperty("title").GetString());
        Assert.True(link.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(6));

        (exit, output, error) = await Run("links", "update", "cli-link", "--url", "https://example.com/changed", "--no-expiry", "--no-title", "--clear-tags");
        Assert.True(exit == 0, error);
        Assert.Contains("-> https://example.com/changed", output);
        Assert.DoesNotContain("expires", output);
        Assert.DoesNotContain("title", output);

        await Run("links", "create", "https://example.com/second");
        (exit, output, _) = await Run("links", "list", "--limit", "1", "--all");
        Assert.Equal(0, exit);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        (exit, output, _) = await Run("links", "delete", "cli-link");
        Assert.Equal(0, exit);
        Assert.Contains("deleted cli-link", output);

        (exit, _, error) = await Run("links", "get", "cli-link");
        Assert.Equal(1, exit);
        Assert.Contains("410", error);
    }

    [Fact]
    public async Task Stats_show_a_links_clicks_per_day_and_its_referrers()
    {
        await Run("links", "create", "https://example.com/counted", "--alias", "counted-link");
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/counted-link");
            request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0");
            request.Headers.Referrer = new Uri("https://news.example/a");
            Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.SendAsync(request)).StatusCode);
        }

        await _node.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/counted-link"));
        string output = "";
        for (var i = 0; i < 100 && !output.Contains("4 clicks", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
            (_, output, _) = await Run("links", "stats", "counted-link", "--consistency", "all");
        }

        Assert.Contains("counted-link: 4 clicks", output);
        Assert.Contains("(3 human, 1 bots; read at all)", output);
        Assert.Contains("top referrers: news.example 3", output);
        Assert.Matches(@"\n  \d{4}-\d\d-\d\d +4  #+", output);

        var (exit, json, _) = await Run("links", "stats", "counted-link", "--json", "--from", "2020-01-01", "--to", "2020-01-02");
        Assert.Equal(0, exit);
        Assert.Equal(0, JsonDocument.Parse(json).RootElement.GetProperty("total").GetInt64());

        var (bad, _, error) = await Run("links", "stats", "counted-link", "--consistency", "most");
        Assert.Equal(1, bad);
        Assert.Contains("400", error);
        (bad, _, error) = await Run("links", "stats", "never-made");
        Assert.Equal(1, bad);
        Assert.Contains("404", error);
    }

    [Fact]
    public async Task Errors_are_reported_with_an_exit_code()
    {
        var (exit, _, error) = await Run("links", "create", "javascript:alert(1)");
        Assert.Equal(1, exit);
        Assert.Contains("422", error);
        Assert.Contains("http and https", error);

        (exit, _, error) = await Run("links", "create", "https://example.com", "--expires", "someday");
        Assert.Equal(2, exit);
        Assert.Contains("--expires", error);

        (exit, _, error) = await Run("links", "update", "abc");
        Assert.Equal(2, exit);
        Assert.Contains("nothing to change", error);

        (exit, _, error) = await ShortenerCliRun("links", "get", "abc", "--server", "not a url");
        Assert.Equal(2, exit);
        Assert.Contains("--server", error);

        (exit, _, error) = await ShortenerCliRun("links", "create", "https://example.com", "--server", _node.BaseUrl, "--api-key", "wrong-key-wrong-key");
        Assert.Equal(1, exit);
        Assert.Contains("401", error);
    }

    [Fact]
    public async Task An_unreachable_server_is_reported_after_retries()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var (exit, _, error) = await ShortenerCliRun("links", "get", "abc", "--server", $"http://127.0.0.1:{port}");
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach", error);
    }

    [Fact]
    public async Task A_lost_response_is_retried_with_the_same_key_and_creates_one_link()
    {
        var handler = new LoseFirstResponseHandler { InnerHandler = new SocketsHttpHandler() };
        using var client = new ShortenerApiClient(new HttpClient(handler) { BaseAddress = new Uri(_node.BaseUrl) }, TestNode.Key);
        var link = await client.CreateAsync(new { url = "https://example.com/once" }, "cli-retry-1", CancellationToken.None);
        Assert.Equal(2, handler.Calls);
        var list = await client.ListAsync(100, null, null, CancellationToken.None);
        Assert.Equal(link.Code, Assert.Single(list.Items).Code);
    }

    private Task<(int, string, string)> Run(params string[] args) =>
        ShortenerCliRun([.. args, "--server", _node.BaseUrl, "--api-key", TestNode.Key]);

    private static async Task<(int Exit, string Output, string Error)> ShortenerCliRun(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await ShortenerCli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Lets the first request reach the server, then pretends its response was lost.</summary>
    private sealed class LoseFirstResponseHandler : DelegatingHandler
    {
        public int Calls { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            var response = await base.SendAsync(request, cancellationToken);
            if (Calls == 1)
            {
                response.Dispose();
                throw new HttpRequestException("connection reset (simulated)");
            }

            return response;
        }
    }
}
