using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shortener.Node.Sinks;

/// <summary>The cluster's sinks as shard 0 keeps them (cluster document <c>sinks</c>): a bounded list, unique by name.</summary>
public sealed record SinkList(IReadOnlyList<SinkDefinition> Sinks)
{
    /// <summary>Each sink costs a deliverer per shard on the nodes that lead them; a handful is what it is for.</summary>
    public const int MaxSinks = 16;

    public static SinkList Empty { get; } = new([]);

    public SinkDefinition? Find(string name) => Sinks.FirstOrDefault(s => s.Name == name);

    public SinkList With(SinkDefinition sink)
    {
        if (Find(sink.Name) is not null)
        {
            throw new SinkRefusedException(SinkRefusal.Exists, $"the cluster already has a sink named {sink.Name}");
        }

        if (Sinks.Count >= MaxSinks)
        {
            throw new SinkRefusedException(SinkRefusal.Conflict, $"the cluster has {MaxSinks} sinks, the most it keeps; remove one first");
        }

        return new SinkList([.. Sinks, sink]);
    }

    public SinkList Without(string name) =>
        Find(name) is null
            ? throw new SinkRefusedException(SinkRefusal.NotFound, $"no sink is named {name}")
            : new SinkList([.. Sinks.Where(s => s.Name != name)]);

    public string Serialize() => JsonSerializer.Serialize(this, SinkJsonContext.Default.SinkList);

    /// <summary>Reads a stored list; null for one this version cannot read or that breaks its rules (never taken, never thrown on the apply path).</summary>
    public static SinkList? TryParse(string document)
    {
        try
        {
            var list = JsonSerializer.Deserialize(document, SinkJsonContext.Default.SinkList);
            return list is { Sinks: not null } && list.Sinks.Count <= MaxSinks && list.Sinks.All(s => s is not null && !string.IsNullOrEmpty(s.Name) && !string.IsNullOrEmpty(s.Url))
                   && list.Sinks.Select(s => s.Name).Distinct().Count() == list.Sinks.Count
                ? list
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SinkList))]
[JsonSerializable(typeof(SinkProgress))]
internal sealed partial class SinkJsonContext : JsonSerializerContext;
