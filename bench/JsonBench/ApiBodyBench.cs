using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using Shortener.Node.Api;

namespace Shortener.Bench.Json;

/// <summary>
/// The JSON of one POST /api/v1/links on the node that takes it: the request body read into its
/// record, the created link written back. Baseline: the Web options resolved by reflection (before
/// <see cref="ApiJsonContext"/>); against it the generated context, whose writer is generated code
/// when the options are its own.
/// </summary>
[MemoryDiagnoser]
public class ApiBodyBench
{
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
    private static readonly JsonSerializerOptions Generated = new(JsonSerializerDefaults.Web) { TypeInfoResolverChain = { ApiJsonContext.Default, new DefaultJsonTypeInfoResolver() } };

    private readonly byte[] _request = """{"url":"https://example.com/campaigns/winter?utm_source=news","tags":["winter","news"],"title":"Winter sale"}"""u8.ToArray();

    private readonly LinkResponse _response = new(
        "Xk3p9aQ", "http://127.0.0.1:8080/Xk3p9aQ", "https://example.com/campaigns/winter?utm_source=news",
        DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_000),
        null, null, 0, 302, ["winter", "news"], "Winter sale", "active");

    [Benchmark(Baseline = true, Description = "reflection")]
    public int Reflected() => Run(Reflection);

    [Benchmark(Description = "generated (ApiJsonContext)")]
    public int GeneratedCode() => Run(Generated);

    private int Run(JsonSerializerOptions options)
    {
        using var document = JsonDocument.Parse(_request);
        var request = document.RootElement.Deserialize<CreateLinkRequest>(options)!;
        return request.Url!.Length + JsonSerializer.SerializeToUtf8Bytes(_response, options).Length;
    }
}
