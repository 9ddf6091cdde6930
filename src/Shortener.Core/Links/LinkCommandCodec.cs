using System.Text.Json;

namespace Shortener.Core.Links;

/// <summary>A link command as a replicated log carries it: the UTF-8 JSON of its <see cref="LinkCommandEnvelope"/>.</summary>
public static class LinkCommandCodec
{
    public static byte[] Encode(LinkCommandEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, LinkJson.Options);

    /// <summary>Decodes a command; throws <see cref="InvalidDataException"/> for bytes no version of this code wrote.</summary>
    public static LinkCommandEnvelope Decode(ReadOnlySpan<byte> payload)
    {
        try
        {
            return JsonSerializer.Deserialize<LinkCommandEnvelope>(payload, LinkJson.Options) ?? throw new JsonException("null command");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"not a link command this version can apply: {e.Message}", e);
        }
    }
}
