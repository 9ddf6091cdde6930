using Shortener.Node.Changes;

namespace Shortener.Node.Sinks;

/// <summary>Makes the writer for a sink; webhooks share one HTTP client (5 s per request, no redirects: a moved endpoint is a configuration error).</summary>
public sealed class SinkWriterFactory(ChangeEventFormat format, SinkOptions options, SinkMetrics metrics, TimeProvider time) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(2) })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    public ChangeEventFormat Format => format;

    public ISinkWriter Create(SinkDefinition sink) => sink.Kind switch
    {
        SinkKind.Redis => new RedisStreamSink(sink, Format, TimeSpan.FromMilliseconds(options.WriteIntervalMs), time, metrics),
        SinkKind.Webhook => new WebhookSink(sink, Format, _http, metrics),
        _ => throw new ArgumentOutOfRangeException(nameof(sink), sink.Kind, "unknown sink kind"),
    };

    public void Dispose() => _http.Dispose();
}
