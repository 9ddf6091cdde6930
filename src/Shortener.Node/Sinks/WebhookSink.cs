using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Shortener.Core.Changes;
using Shortener.Node.Changes;

namespace Shortener.Node.Sinks;

/// <summary>
/// POSTs a shard's events as one CloudEvents batch (<c>application/cloudevents-batch+json</c>) to
/// an HTTPS endpoint. Each body is signed: <c>Shortener-Signature: sha256=&lt;hex HMAC-SHA256 of the
/// body under the sink's secret&gt;</c>; <c>Shortener-Fencing-Token</c> and <c>Shortener-Shard</c> let
/// the receiver refuse a deposed deliverer as the Redis script does (answer 409), and the event ids
/// let it drop repeats (delivery is at least once). Another 4xx refuses the batch (retried a few
/// times, then a dead letter); 5xx, 408, 429 and no answer are retried until the receiver is back.
/// </summary>
public sealed class WebhookSink(SinkDefinition sink, ChangeEventFormat format, HttpClient http, SinkMetrics? metrics = null) : ISinkWriter
{
    public const string SignatureHeader = "Shortener-Signature";
    public const string TokenHeader = "Shortener-Fencing-Token";
    public const string ShardHeader = "Shortener-Shard";
    public const string BatchContentType = "application/cloudevents-batch+json";

    private readonly byte[] _secret = Encoding.UTF8.GetBytes(sink.Secret ?? throw new ArgumentException("a webhook sink needs its secret", nameof(sink)));

    /// <summary>The signature header's value for <paramref name="body"/>: what a receiver recomputes and compares in constant time.</summary>
    public static string Sign(byte[] secret, ReadOnlySpan<byte> body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    public async Task<SinkWrite> WriteAsync(ShardBatch batch, CancellationToken cancellationToken)
    {
        var (shard, token, changes) = (batch.Shard, batch.Token, batch.Changes);
        var body = Batch(changes);
        using var request = new HttpRequestMessage(HttpMethod.Post, sink.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(BatchContentType);
        request.Headers.Add(SignatureHeader, Sign(_secret, body));
        request.Headers.Add(TokenHeader, token.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(ShardHeader, shard.ToString(CultureInfo.InvariantCulture));
        metrics?.Called(sink.Name);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            var seen = response.Headers.TryGetValues(TokenHeader, out var values) && ulong.TryParse(values.FirstOrDefault(), out var high) ? high : token + 1;
            return new SinkWrite(SinkWriteOutcome.Fenced, 0, seen);
        }

        if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
        {
            throw new SinkRejectedException($"the webhook refused the events: {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the webhook answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        return new SinkWrite(SinkWriteOutcome.Delivered, changes.Count, token);
    }

    /// <summary>Connects to the endpoint's host and port (a POST would deliver something); refused or silent within the timeout is unreachable.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(sink.Url);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(url.Host, url.Port, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private byte[] Batch(IReadOnlyList<LinkChange> changes)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'[');
        for (var i = 0; i < changes.Count; i++)
        {
            if (i > 0)
            {
                buffer.WriteByte((byte)',');
            }

            buffer.Write(format.Encode(changes[i]).Span);
        }

        buffer.WriteByte((byte)']');
        return buffer.ToArray();
    }
}
