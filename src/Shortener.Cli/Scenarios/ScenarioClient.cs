using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shortener.Node.Api;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// A scenario's HTTP client for every node of the cluster: one request per call, no retries of its
/// own (the scenario decides what a retry is), and every answer classified as acknowledged,
/// refused or in doubt. Redirects are not followed: a 301/302 is the answer.
/// </summary>
public sealed class ScenarioClient : IDisposable
{
    /// <summary>Longer than a node's own request timeout (5 s), so a write the node gives up on is seen as the node's answer.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(8);

    /// <summary>Status of a request that never left: the node refused the connection (it is down), so nothing was done.</summary>
    public const int NotConnected = -1;

    private readonly ConcurrentDictionary<ulong, HttpClient> _nodes = new();
    private readonly ConcurrentDictionary<ulong, bool> _gone = new();
    private readonly string? _apiKey;
    private readonly Stopwatch _clock;

    public ScenarioClient(IReadOnlyDictionary<ulong, Uri> nodes, string? apiKey, Stopwatch clock)
    {
        _apiKey = apiKey;
        _clock = clock;
        foreach (var (id, uri) in nodes)
        {
            Add(id, uri);
        }
    }

    /// <summary>The nodes that are members now: samplers, final reads and click totals ask these.</summary>
    public IReadOnlyCollection<ulong> Nodes => _nodes.Keys.Where(n => !_gone.ContainsKey(n)).Order().ToList();

    /// <summary>A node that joined during the run.</summary>
    public void Add(ulong node, Uri address) =>
        _nodes[node] = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = address,
            Timeout = RequestTimeout,
        };

    /// <summary>A node that is gone for good: still addressable (its workers keep trying, as clients would), no longer in <see cref="Nodes"/>.</summary>
    public void Retire(ulong node) => _gone[node] = true;

    public long NowMs => _clock.ElapsedMilliseconds;

    public async Task<ScenarioOperation> CreateAsync(int worker, ulong node, string alias, string url, string key, CancellationToken cancellationToken)
    {
        var invoke = NowMs;
        var (status, body, _) = await SendAsync(node, HttpMethod.Post, "/api/v1/links", JsonContent.Create(new { url, alias }), key, cancellationToken);
        return new ScenarioOperation(worker, node, ScenarioOperationKind.Create, alias, url, invoke, NowMs, ClassifyWrite(status, body), status, IdempotencyKey: key);
    }

    public async Task<ScenarioOperation> UpdateAsync(int worker, ulong node, string code, string url, string key, CancellationToken cancellationToken)
    {
        var invoke = NowMs;
        var content = JsonContent.Create(new { url }, new System.Net.Http.Headers.MediaTypeHeaderValue("application/merge-patch+json"));
        var (status, body, _) = await SendAsync(node, HttpMethod.Patch, $"/api/v1/links/{code}", content, key, cancellationToken);
        return new ScenarioOperation(worker, node, ScenarioOperationKind.Update, code, url, invoke, NowMs, ClassifyWrite(status, body), status, IdempotencyKey: key);
    }

    /// <summary>A linearizable read (or a local one); <see cref="ScenarioOperation.Output"/> is the url, null for 404.</summary>
    public async Task<ScenarioOperation> ReadAsync(int worker, ulong node, string code, CancellationToken cancellationToken, bool local = false)
    {
        var invoke = NowMs;
        var (status, body, _) = await SendAsync(node, HttpMethod.Get, $"/api/v1/links/{code}?consistency={(local ? "local" : "linearizable")}", null, null, cancellationToken);
        var outcome = status switch
        {
            200 or 404 => ScenarioOutcome.Ok,
            0 => ScenarioOutcome.InDoubt,
            _ => ScenarioOutcome.Refused,
        };
        var url = status == 200 ? JsonDocument.Parse(body).RootElement.GetProperty("url").GetString() : null;
        return new ScenarioOperation(worker, node, ScenarioOperationKind.Read, code, null, invoke, NowMs, outcome, status, url);
    }

    public async Task<ScenarioOperation> RedirectAsync(int worker, ulong node, string code, CancellationToken cancellationToken)
    {
        var invoke = NowMs;
        int status;
        string? location = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/" + code);
            request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) shortener-scenario");
            using var response = await _nodes[node].SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
            location = response.Headers.Location?.ToString();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            status = NoAnswer(e);
        }

        var outcome = status switch
        {
            301 or 302 or 307 or 308 => ScenarioOutcome.Ok,
            0 => ScenarioOutcome.InDoubt,
            _ => ScenarioOutcome.Refused,
        };
        return new ScenarioOperation(worker, node, ScenarioOperationKind.Redirect, code, null, invoke, NowMs, outcome, status, location);
    }

    /// <summary>Retries an in-doubt write with its idempotency key: replayed means it had happened.</summary>
    public async Task<ScenarioOperation> ResolveAsync(ScenarioOperation doubt, ulong node, CancellationToken cancellationToken)
    {
        HttpContent content = doubt.Kind == ScenarioOperationKind.Create
            ? JsonContent.Create(new { url = doubt.Value, alias = doubt.Code })
            : JsonContent.Create(new { url = doubt.Value }, new System.Net.Http.Headers.MediaTypeHeaderValue("application/merge-patch+json"));
        var (method, path) = doubt.Kind == ScenarioOperationKind.Create ? (HttpMethod.Post, "/api/v1/links") : (HttpMethod.Patch, $"/api/v1/links/{doubt.Code}");
        var (status, _, replayed) = await SendAsync(node, method, path, content, doubt.IdempotencyKey, cancellationToken);
        var resolution = status is 200 or 201 ? replayed ? DoubtResolution.FoundDone : DoubtResolution.FoundNotDone : DoubtResolution.StillUnknown;
        return doubt with { Resolution = resolution, ResolvedMs = NowMs };
    }

    /// <summary>GET a JSON document from a node's admin or API (null when it does not answer 200).</summary>
    public async Task<T?> GetJsonAsync<T>(ulong node, string path, CancellationToken cancellationToken)
    {
        var (status, body, _) = await SendAsync(node, HttpMethod.Get, path, null, null, cancellationToken);
        return status == 200 ? JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web) : default;
    }

    /// <summary>Sends a fault request (partition, heal) to one node, which fans it out to the cluster (or keeps it, with scope node).</summary>
    public Task<(int Status, string Body)> FaultAsync(ulong node, object spec, CancellationToken cancellationToken) =>
        AdminAsync(node, "/admin/v1/faults", spec, cancellationToken);

    /// <summary>An admin call (POST with a JSON body, or DELETE when <paramref name="body"/> is null): its status (0: no answer) and body.</summary>
    public async Task<(int Status, string Body)> AdminAsync(ulong node, string path, object? body, CancellationToken cancellationToken)
    {
        var (status, text, _) = body is null
            ? await SendAsync(node, HttpMethod.Delete, path, null, null, cancellationToken)
            : await SendAsync(node, HttpMethod.Post, path, JsonContent.Create(body, options: JsonSerializerOptions.Web), null, cancellationToken);
        return (status, text);
    }

    public void Dispose()
    {
        foreach (var client in _nodes.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>
    /// A write's answer: 2xx acknowledged; a 503 that says the write may still be applied, or no
    /// answer at all, in doubt; anything else refused.
    /// </summary>
    internal static ScenarioOutcome ClassifyWrite(int status, string body) => status switch
    {
        >= 200 and < 300 => ScenarioOutcome.Ok,
        0 => ScenarioOutcome.InDoubt,
        503 when body.Contains("may still be applied", StringComparison.Ordinal) => ScenarioOutcome.InDoubt,
        _ => ScenarioOutcome.Refused,
    };

    /// <summary>Status 0 for no answer (timeout or reset connection), <see cref="NotConnected"/> for a refused connection.</summary>
    private async Task<(int Status, string Body, bool Replayed)> SendAsync(ulong node, HttpMethod method, string path, HttpContent? content, string? idempotencyKey, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            if (_apiKey is not null)
            {
                request.Headers.Add("X-Api-Key", _apiKey);
            }

            if (idempotencyKey is not null)
            {
                request.Headers.Add(LinkEndpoints.IdempotencyHeader, idempotencyKey);
            }

            using var response = await _nodes[node].SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var replayed = response.Headers.TryGetValues(LinkEndpoints.ReplayedHeader, out var values) && values.Contains("true");
            return ((int)response.StatusCode, body, replayed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (NoAnswer(e), string.Empty, false);
        }
    }

    /// <summary>
    /// <see cref="NotConnected"/> when the connection was refused (the request never left, so it
    /// was not done); 0 otherwise (a timeout or a reset after sending: it may have been done).
    /// </summary>
    private static int NoAnswer(Exception e) =>
        e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError, InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } ? NotConnected : 0;
}
