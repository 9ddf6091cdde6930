using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using Shortener.Core.Links;

namespace Shortener.Bench.Json;

/// <summary>
/// What every create costs in JSON on every replica: the leader encodes the command into its log
/// entry, each replica decodes it to apply it and writes the link's tags and the idempotency
/// record's result. Baseline: the same options resolved by reflection (the code before issue 14's
/// source-generated metadata). Both write the same bytes (LinkCommandCodecTests).
/// </summary>
[MemoryDiagnoser]
public class CommandCodecBench
{
    private static readonly JsonSerializerOptions Reflection = new(LinkJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private readonly LinkCommandEnvelope _create = new(
        new CreateLink(1_765_000_000_000, "Xk3p9aQ", "https://example.com/campaigns/winter?utm_source=news", null, null, 302, ["winter", "news"], "Winter sale"),
        new IdempotencyToken("key-1", "0f6c2a0e-7d4b-4a43-9d5e-2a1f9b0c7e11", "9b74c9897bac770ffc029102a200c5de"));

    private readonly CommandResult _result = new(CommandOutcome.Created, new Link("Xk3p9aQ", "https://example.com/campaigns/winter?utm_source=news", 1, 1, null, null, 0, 302, ["winter", "news"], "Winter sale", false));

    [Benchmark(Baseline = true, Description = "reflection")]
    public int Reflected()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_create, Reflection);
        var decoded = JsonSerializer.Deserialize<LinkCommandEnvelope>(bytes, Reflection)!;
        return bytes.Length + JsonSerializer.Serialize(((CreateLink)decoded.Command).Tags, Reflection).Length + JsonSerializer.Serialize(_result, Reflection).Length;
    }

    [Benchmark(Description = "generated (LinkJson.Options)")]
    public int Generated()
    {
        var bytes = LinkCommandCodec.Encode(_create);
        var decoded = LinkCommandCodec.Decode(bytes);
        return bytes.Length + LinkJson.Serialize(((CreateLink)decoded.Command).Tags).Length + LinkJson.Serialize(_result).Length;
    }
}
