using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Shortener.Core.Links;

/// <summary>The one JSON form of commands and results, used wherever they are stored or logged.</summary>
public static class LinkJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },

        // Generated metadata for the types on the create and apply paths; reflection for the rest
        // (snapshot images, which are rare).
        TypeInfoResolver = JsonTypeInfoResolver.Combine(LinkJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"null {typeof(T).Name}");
}
