using System.Net;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Shortener.Node.Sinks;

/// <summary>Where a sink writes: a Redis stream (XADD, as Debezium Server does) or an HTTP endpoint.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SinkKind>))]
public enum SinkKind
{
    [JsonStringEnumMemberName("redis")]
    Redis,

    [JsonStringEnumMemberName("webhook")]
    Webhook,
}

/// <summary>Why a sink change was refused; each is its own problem type.</summary>
public enum SinkRefusal
{
    Invalid,
    Unreachable,
    Exists,
    NotFound,
    Conflict,
}

public sealed class SinkRefusedException(SinkRefusal refusal, string message) : Exception(message)
{
    public SinkRefusal Refusal { get; } = refusal;
}

/// <summary>
/// One sink of the cluster (docs/cdc.md): a name, what it writes to, the topic it carries. For
/// Redis, the stream it appends to; for a webhook, the secret it signs each body with
/// (HMAC-SHA256), which the cluster keeps (the receiver must have it too).
/// </summary>
public sealed partial record SinkDefinition(string Name, SinkKind Kind, string Url, string Topic, string? Stream, string? Secret, long CreatedAt, string? From = null)
{
    /// <summary>Where a new sink starts: the changes made from when it was added (the default), or every change still kept.</summary>
    public static readonly IReadOnlyList<string> Starts = ["now", "oldest"];

    /// <summary>Whether the sink gets the changes kept from before it was added (the last 24 hours) as well.</summary>
    [JsonIgnore]
    public bool FromOldest => From == "oldest";

    public const int MaxNameLength = 40;

    /// <summary>The topics a sink can carry: link changes (the visits stream is served over HTTP only).</summary>
    public static readonly IReadOnlyList<string> Topics = ["links"];

    public const string DefaultStream = "shortener.links";

    /// <summary>The name of each shard's lease for delivering to this sink.</summary>
    [JsonIgnore]
    public string LeaseName => "sink:" + Name;

    /// <summary>
    /// Checks what can be checked without the network, and fills defaults (the stream; a webhook's
    /// secret when none was given). Throws <see cref="SinkRefusedException"/> (Invalid).
    /// </summary>
    public static SinkDefinition Validate(string? name, string? kind, string? url, string? topic, string? stream, string? secret, long now, string? from = null)
    {
        from ??= "now";
        if (!Starts.Contains(from))
        {
            throw Invalid("from must be now (the changes made from now on) or oldest (every change still kept, the last 24 hours, first)");
        }

        name = name?.Trim();
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw Invalid($"name is required: 1 to {MaxNameLength} lowercase letters, digits or '-', starting with a letter or digit");
        }

        if (!Enum.TryParse<SinkKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(kind, out _))
        {
            throw Invalid("kind must be redis or webhook");
        }

        topic ??= "links";
        if (!Topics.Contains(topic))
        {
            throw Invalid($"unknown topic {topic}: sinks carry {string.Join(", ", Topics)}");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw Invalid("url is required: an absolute URL");
        }

        if (parsed == SinkKind.Redis)
        {
            if (uri.Scheme is not ("redis" or "rediss") || uri.Port is < 1 or > 65535 || uri.AbsolutePath.Trim('/') is { Length: > 0 } db && !int.TryParse(db, out _))
            {
                throw Invalid("a Redis sink's url is redis://host:port[/database] (rediss:// for TLS)");
            }

            stream = string.IsNullOrWhiteSpace(stream) ? DefaultStream : stream.Trim();
            if (stream.Length > 200 || stream.Any(char.IsControl) || stream.Contains(' '))
            {
                throw Invalid("stream must be 1 to 200 characters without spaces or control characters");
            }

            if (secret is not null)
            {
                throw Invalid("a secret is for webhooks; a Redis sink has none");
            }

            return new SinkDefinition(name, parsed, uri.ToString(), topic, stream, null, now, from);
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)))
        {
            throw Invalid("a webhook's url must be https (plain http only to a loopback address)");
        }

        if (stream is not null)
        {
            throw Invalid("a stream is for Redis sinks; a webhook has none");
        }

        if (secret is not null && (secret.Length is < 16 or > 256 || secret.Any(char.IsControl)))
        {
            throw Invalid("secret must be 16 to 256 printable characters (or leave it out and one is made)");
        }

        return new SinkDefinition(name, parsed, uri.ToString(), topic, null, secret ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)), now, from);
    }

    /// <summary>The sink as the API shows it: the secret only in the answer that made it.</summary>
    public SinkDefinition Public(bool withSecret = false) => withSecret ? this : this with { Secret = Secret is null ? null : "********" };

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static SinkRefusedException Invalid(string message) => new(SinkRefusal.Invalid, message);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex NamePattern();
}
