using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Shortener.Node.Security;

namespace Shortener.Node.Tests;

/// <summary>What a probe of a running cluster found (issue 16, part 5), each pinned by a test.</summary>
[Collection(ProcessWideMetrics.Name)]
public sealed class ProbeHardeningTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly CapturingLoggerProvider _logs = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(
        _dir.Path,
        new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            [$"Logging:LogLevel:{ApiKeyAuthenticationHandler.LogCategory}"] = "Debug",
        },
        configure: b => b.Logging.AddProvider(_logs));

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Refused_keys_are_counted_and_logged_at_debug_only()
    {
        using var bad = new HttpClient { BaseAddress = new Uri(_node.BaseUrl) };
        bad.DefaultRequestHeaders.Add("X-Api-Key", "not-the-key");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await bad.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await _node.Anonymous.GetAsync("/admin/v1/cluster")).StatusCode);

        // Nothing at Information or above from authentication: only the handler's own Debug lines.
        Assert.DoesNotContain(_logs.Entries, e => e.Category == typeof(ApiKeyAuthenticationHandler).FullName);
        Assert.Equal(6, _logs.Entries.Count(e => e.Category == ApiKeyAuthenticationHandler.LogCategory));

        var metrics = await _node.Client.GetStringAsync("/metrics");
        Assert.Contains("shortener_auth_refused_total{otel_scope_name=\"Shortener\",reason=\"invalid-key\"} 5", metrics);
        Assert.Contains("shortener_auth_refused_total{otel_scope_name=\"Shortener\",reason=\"no-key\"} 1", metrics);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task A_short_link_only_redirects_and_other_methods_get_405_with_allow(string method)
    {
        await _node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com","alias":"only-get"}"""));
        foreach (var path in new[] { "/only-get", "/no-such-code" })
        {
            var response = await _node.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order());
            Assert.Equal("urn:shortener:problem:method-not-allowed", (await LinkApiTests.ProblemAsync(response)).GetProperty("type").GetString());
        }

        Assert.Equal(HttpStatusCode.Found, (await _node.Anonymous.GetAsync("/only-get")).StatusCode);
    }

    [Fact]
    public async Task Numbers_must_be_json_numbers_on_create_as_they_are_on_patch()
    {
        var response = await _node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com","redirectStatus":"301"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'redirectStatus' has a value of the wrong type", (await LinkApiTests.ProblemAsync(response)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com","redirectStatus":301}"""))).StatusCode);
    }

    [Theory]
    [InlineData("/admin/v1/faults", """{"action":"delay","delayMs":"abc"}""", "'delayMs' has a value of the wrong type")]
    [InlineData("/admin/v1/faults", """{"action":5}""", "'action' has a value of the wrong type")]
    [InlineData("/admin/v1/faults", """{"action":"partition","peers":[2],"forSeconds":5,"untilMs":99999999999}""", "unknown field 'untilMs'")]
    [InlineData("/admin/v1/cluster/nodes", """{"id":"seven","dc":"dc1"}""", "'id' has a value of the wrong type")]
    public async Task Admin_errors_name_the_field_not_a_dotnet_type(string path, string body, string expected)
    {
        var response = await _node.Client.PostAsync(path, TestNode.Json(body));
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, response.StatusCode.ToString());
        var detail = (await LinkApiTests.ProblemAsync(response)).GetProperty("detail").GetString()!;
        Assert.Contains(expected, detail);
        Assert.DoesNotContain("System.", detail);
        Assert.DoesNotContain("Shortener.", detail);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task Removing_a_node_by_a_bad_id_is_a_problem_with_a_reason(string id)
    {
        var response = await _node.Client.DeleteAsync($"/admin/v1/cluster/nodes/{id}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await LinkApiTests.ProblemAsync(response);
        Assert.Equal("urn:shortener:problem:malformed-request", problem.GetProperty("type").GetString());
        Assert.Contains("not a node id", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Fault_injection_is_off_unless_the_node_allows_it()
    {
        using var dir = new TempDirectory();
        await using var node = await TestNode.StartAsync(dir.Path, new Dictionary<string, string?> { ["Shortener:AllowFaults"] = null });
        foreach (var response in new[]
        {
            await node.Client.PostAsync("/admin/v1/faults", TestNode.Json("""{"action":"pause","scope":"node","forSeconds":5}""")),
            await node.Client.DeleteAsync("/admin/v1/faults"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("--allow-faults", (await LinkApiTests.ProblemAsync(response)).GetProperty("detail").GetString());
        }

        // Nothing was paused: it still writes.
        Assert.Equal(HttpStatusCode.Created, (await node.Client.PostAsync("/api/v1/links", TestNode.Json("""{"url":"https://example.com"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _node.Client.DeleteAsync("/admin/v1/faults")).StatusCode);
    }
}
