using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Shortener.Node.Hosting;

namespace Shortener.Node.Tests;

/// <summary>A real node on Kestrel, on a free loopback port, over a data directory the test owns.</summary>
public sealed class TestNode : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef";

    private readonly WebApplication _app;

    private TestNode(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", Key);
    }

    public string BaseUrl { get; }

    /// <summary>Sends the test API key.</summary>
    public HttpClient Client { get; }

    /// <summary>Sends no API key.</summary>
    public HttpClient Anonymous { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestNode> StartAsync(string dataDir, IDictionary<string, string?>? settings = null, TimeProvider? time = null, bool withKey = true, Action<WebApplicationBuilder>? configure = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Shortener:DataDir"] = dataDir,
            ["Shortener:ApiKey"] = withKey ? Key : null,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Shortener:AllowFaults"] = "true",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            overrides[k] = v;
        }

        var builder = ShortenerNodeApp.CreateBuilder([], overrides);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        configure?.Invoke(builder);
        var app = ShortenerNodeApp.Build(builder);
        await app.StartAsync();
        return new TestNode(app, app.Urls.First());
    }

    public static StringContent Json(string json, string mediaType = "application/json") => new(json, new MediaTypeHeaderValue(mediaType));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
