using System.Text;
using Microsoft.AspNetCore.Http;

namespace Shortener.Node.Api;

/// <summary>
/// Writing a <c>text/event-stream</c> (the WHATWG Server-Sent Events format): events of one data
/// line (compact JSON), with an optional name and id, and a comment every <see cref="KeepAlive"/>
/// so idle connections stay open through proxies.
/// </summary>
public static class ServerSentEvents
{
    public const string ContentType = "text/event-stream";

    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    private static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    /// <summary>Whether the request asks for a stream.</summary>
    public static bool Asked(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase));

    /// <summary>The id a reconnecting client resumes from (empty when none).</summary>
    public static string LastEventId(HttpRequest request) => request.Headers["Last-Event-ID"].ToString();

    public static void Begin(HttpResponse response)
    {
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>One event; <paramref name="data"/> must be one line (compact JSON is).</summary>
    public static async Task WriteAsync(HttpResponse response, string? name, string? id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        if (name is not null)
        {
            head.Append("event: ").Append(name).Append('\n');
        }

        if (id is not null)
        {
            head.Append("id: ").Append(id).Append('\n');
        }

        head.Append("data: ");
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()), cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync(EventEnd, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for <paramref name="changed"/>; if <see cref="KeepAlive"/> passes first, sends a comment.</summary>
    public static async Task WaitAsync(HttpResponse response, Task changed, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(changed, Task.Delay(KeepAlive, time, cancellationToken)).ConfigureAwait(false) != changed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await response.Body.WriteAsync(KeepAliveComment, cancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
