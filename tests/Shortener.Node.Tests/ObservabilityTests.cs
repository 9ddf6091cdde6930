using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Shortener.Node.Tests;

[Collection(ProcessWideMetrics.Name)]
public sealed class ObservabilityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Log_lines_and_problems_carry_the_request_trace_id()
    {
        var capture = new CapturingLoggerProvider();
        await using var node = await TestNode.StartAsync(
            _dir.Path,
            new Dictionary<string, string?> { ["Logging:LogLevel:Shortener"] = "Information" },
            configure: b => b.Logging.AddProvider(capture));

        var traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"https://example.com/traced"}""") };
        create.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        var response = await node.Client.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var code = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

        var entry = Assert.Single(capture.Entries, e => e.Message == $"Link {code} created");
        Assert.Equal(traceId, entry.Scope["TraceId"]?.ToString());

        using var bad = new HttpRequestMessage(HttpMethod.Post, "/api/v1/links") { Content = TestNode.Json("""{"url":"javascript:x"}""") };
        bad.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b8-01");
        var problem = await (await node.Client.SendAsync(bad)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(traceId, problem.GetProperty("traceId").GetString());
    }
}
