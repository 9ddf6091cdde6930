using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shortener.Node.Api;

/// <summary>
/// Source-generated JSON for the bodies every create and read handles: the create request, a link,
/// a page of links. The HTTP JSON options look here first (see ShortenerNodeApp), so these
/// are written by generated code instead of reflection; the wire form is the Web defaults' as before.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateLinkRequest))]
[JsonSerializable(typeof(LinkResponse))]
[JsonSerializable(typeof(LinkListResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
