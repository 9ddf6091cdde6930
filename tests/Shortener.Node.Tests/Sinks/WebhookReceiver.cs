using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Shortener.Node.Sinks;

namespace Shortener.Node.Tests.Sinks;

/// <summary>A webhook endpoint on loopback that records what it is sent, failing the first few requests with 500 (or refusing all with 422).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private int _failFirst;

    private WebhookReceiver(int port, int failFirst)
    {
        _failFirst = failFirst;
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public sealed record Delivery(byte[] Body, string? Signature, ulong Token);

    public string Url { get; }

    public int Failed { get; private set; }

    public bool FailAlways { get; set; }

    /// <summary>From now on, takes every request (a receiver that was down is back).</summary>
    public void StopFailing() => Volatile.Write(ref _failFirst, 0);

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public IEnumerable<string> EventIds => Deliveries.SelectMany(d => JsonDocument.Parse(d.Body).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!));

    public static Task<WebhookReceiver> StartAsync(int failFirst)
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return Task.FromResult(new WebhookReceiver(port, failFirst));
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (FailAlways)
            {
                context.Response.StatusCode = 422;
            }
            else if (_failFirst > 0)
            {
                _failFirst--;
                Failed++;
                context.Response.StatusCode = 500;
            }
            else
            {
                Deliveries.Enqueue(new Delivery(body.ToArray(), context.Request.Headers[WebhookSink.SignatureHeader], ulong.Parse(context.Request.Headers[WebhookSink.TokenHeader] ?? "0")));
                context.Response.StatusCode = 204;
            }

            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving.ConfigureAwait(false);
    }
}
