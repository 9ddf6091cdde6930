using System.Text.Json.Serialization;

namespace Shortener.Core.Links;

/// <summary>
/// Source-generated JSON metadata for what every create and apply serializes: the command a log
/// entry carries, the result an idempotency record keeps, a link's tags. It replaces the
/// reflection the serializer would otherwise do for these types; the wire form is still
/// <see cref="LinkJson.Options"/>' (camelCase, nulls left out, enums as camelCase strings).
/// </summary>
[JsonSerializable(typeof(LinkCommandEnvelope))]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class LinkJsonContext : JsonSerializerContext;
