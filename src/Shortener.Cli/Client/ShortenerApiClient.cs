using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shortener.Node.Api;

namespace Shortener.Cli.Client;

/// <summary>
/// The CLI's HTTP client. Writes carry an Idempotency-Key, so a retry after a timeout or a lost
/// response returns the first result instead of acting twice; transient failures (connection
/// refused or reset, 5xx, 429) are retried with back-off.
/// </summary>
public sealed class ShortenerApiClient(HttpClient http, string? apiKey, int attempts = 4) : IDisposable
{
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    public Task<LinkResponse> CreateAsync(object body, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync<LinkResponse>(HttpMethod.Post, "/api/v1/links", body, idempotencyKey, "application/json", cancellationToken)!;

    public Task<LinkResponse> GetAsync(string code, CancellationToken cancellationToken) =>
        SendAsync<LinkResponse>(HttpMethod.Get, $"/api/v1/links/{Uri.EscapeDataString(code)}", null, null, null, cancellationToken)!;

    public Task<LinkResponse> UpdateAsync(string code, Dictionary<string, object?> patch, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync<LinkResponse>(HttpMethod.Patch, $"/api/v1/links/{Uri.EscapeDataString(code)}", patch, idempotencyKey, "application/merge-patch+json", cancellationToken)!;

    public Task DeleteAsync(string code, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Delete, $"/api/v1/links/{Uri.EscapeDataString(code)}", null, idempotencyKey, null, cancellationToken);

    public Task<LinkListResponse> ListAsync(int limit, string? tag, string? cursor, CancellationToken cancellationToken)
    {
        var query = $"?limit={limit}";
        if (tag is not null)
        {
            query += "&tag=" + Uri.EscapeDataString(tag);
        }

        if (cursor is not null)
        {
            query += "&cursor=" + Uri.EscapeDataString(cursor);
        }

        return SendAsync<LinkListResponse>(HttpMethod.Get, "/api/v1/links" + query, null, null, null, cancellationToken)!;
    }

    public Task<ClickStatsResponse> StatsAsync(string code, string? from, string? to, string? consistency, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (from is not null)
        {
            query.Add("from=" + Uri.EscapeDataString(from));
        }

        if (to is not null)
        {
            query.Add("to=" + Uri.EscapeDataString(to));
        }

        if (consistency is not null)
        {
            query.Add("consistency=" + Uri.EscapeDataString(consistency));
        }

        var path = $"/api/v1/links/{Uri.EscapeDataString(code)}/stats" + (query.Count > 0 ? "?" + string.Join("&", query) : "");
        return SendAsync<ClickStatsResponse>(HttpMethod.Get, path, null, null, null, cancellationToken)!;
    }

    public Task<T?> GetJsonAsync<T>(string path, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Get, path, null, null, null, cancellationToken);

    public Task<T?> PostJsonAsync<T>(string path, object body, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Post, path, body, null, "application/json", cancellationToken);

    public Task<T?> DeleteJsonAsync<T>(string path, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Delete, path, null, null, null, cancellationToken);

    public void Dispose() => http.Dispose();

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, string? contentType, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (apiKey is not null)
            {
                request.Headers.Add("X-Api-Key", apiKey);
            }

            if (idempotencyKey is not null)
            {
                request.Headers.Add(LinkEndpoints.IdempotencyHeader, idempotencyKey);
            }

            if (body is not null)
            {
                request.Content = JsonContent.Create(body, mediaType: new System.Net.Http.Headers.MediaTypeHeaderValue(contentType ?? "application/json"), options: Json);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e) when (attempt < attempts)
            {
                _ = e;
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new ApiProblem(0, "unreachable", $"cannot reach {http.BaseAddress}: {e.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt < attempts)
                {
                    continue;
                }

                throw new ApiProblem(0, "timeout", $"{http.BaseAddress} did not answer in time");
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return response.StatusCode == HttpStatusCode.NoContent
                        ? default
                        : await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
                }

                var transient = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests;
                if (transient && attempt < attempts)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? Backoff(attempt);
                    await Task.Delay(wait > TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : wait, cancellationToken);
                    continue;
                }

                throw await ProblemFrom(response, cancellationToken);
            }
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt - 1));

    private static async Task<ApiProblem> ProblemFrom(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var title = root.TryGetProperty("title", out var ti) ? ti.GetString() : null;
            return new ApiProblem(status, type, $"{status} {detail ?? title ?? response.ReasonPhrase}");
        }
        catch (JsonException)
        {
            return new ApiProblem(status, "", $"{status} {response.ReasonPhrase}");
        }
    }
}
