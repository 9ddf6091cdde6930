using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shortener.Node.Hosting;

namespace Shortener.Node.Tests.Sinks;

/// <summary>A sink that was down longer than the changes are kept: what it missed is a dead letter, and delivery goes on after it.</summary>
public sealed class SinkPurgeTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-10T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Shortener:Cluster:Shards"] = "1",
        ["Shortener:Sinks:BackoffBaseMs"] = "20",
        ["Shortener:Sinks:BackoffMaxMs"] = "200",
        ["Logging:LogLevel:Shortener"] = "Information",
    };

    private readonly CapturingLoggerProvider _logs = new();

    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, _settings, time: _time, configure: b => b.Logging.AddProvider(_logs));

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    private async Task CreateAsync(string code) =>
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/" + code, alias = code })).StatusCode);

    /// <summary>Real time passes for the deliverers' waits (they wait on the node's clock, here a fake one) until <paramref name="done"/> or 20 s.</summary>
    private async Task RunClockUntilAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }
    }

    [Fact]
    public async Task Events_purged_before_the_sink_got_them_are_a_dead_letter_and_delivery_goes_on_after_them()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        await CreateAsync("before");
        _time.Advance(TimeSpan.FromMilliseconds(1)); // the sink starts after "before" (its clock does not move on its own)
        var added = await _node.Client.PostAsync("/admin/v1/sinks", TestNode.Json($$"""{"name":"hook","kind":"webhook","url":"{{receiver.Url}}"}"""));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        await CreateAsync("gone-a");
        await CreateAsync("gone-b");

        // The receiver is down: the deliverer retries, and its lease renewals record where it stands.
        var started = DateTime.UtcNow;
        await RunClockUntilAsync(() => Task.FromResult(receiver.Failed >= 2 && DateTime.UtcNow - started > TimeSpan.FromSeconds(3)));
        Assert.True(receiver.Failed >= 2);

        // A day and an hour later the changes made then are purged; the node restarts (what it
        // held in memory is gone) and the receiver is back.
        _time.Advance(TimeSpan.FromHours(25));
        await CreateAsync("kept");
        await _node.Services.GetServices<IHostedService>().OfType<IdempotencyPurgeService>().Single().PurgeAsync(CancellationToken.None);
        await _node.DisposeAsync();
        receiver.StopFailing();
        _node = await TestNode.StartAsync(_dir.Path, _settings, time: _time, configure: b => b.Logging.AddProvider(_logs));

        JsonElement[] dead = [];
        JsonElement status = default;
        await RunClockUntilAsync(async () =>
        {
            status = (await _node.Client.GetFromJsonAsync<JsonElement>("/admin/v1/sinks/hook/status"))[0];
            dead = [.. status.GetProperty("shards").EnumerateArray().SelectMany(s => s.GetProperty("recentDeadLetters").EnumerateArray())];
            return dead.Length > 0 && Subjects(receiver).Contains("kept");
        });

        Assert.True(dead.Length == 1, $"status {status}; delivered {string.Join(", ", Subjects(receiver))}; failed {receiver.Failed}; {string.Join(" | ", _logs.Entries.Where(e => e.Category.Contains("Sink")).Select(e => e.Message))}");
        var letter = dead[0];
        Assert.Contains("purged before delivery", letter.GetProperty("error").GetString());
        Assert.Equal(["kept"], Subjects(receiver).Distinct());
    }

    private static List<string> Subjects(WebhookReceiver receiver) =>
        [.. receiver.Deliveries.SelectMany(d => JsonDocument.Parse(d.Body).RootElement.EnumerateArray().Select(e => e.GetProperty("subject").GetString()!))];
}
