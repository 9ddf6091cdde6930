using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shortener.Core.Links;

namespace Shortener.Node.Api;

/// <summary>
/// Turns a JSON merge patch body into a validated <see cref="LinkPatch"/>, telling absent fields
/// from null ones. The body has passed <see cref="CanonicalJson.Parse"/>: an object, no duplicate
/// fields, every string valid UTF-16.
/// </summary>
internal static class LinkPatchReader
{
    public static (LinkPatch? Patch, IResult? Problem) Read(JsonElement body, TargetUrlRules urlRules, long nowMs)
    {
        var patch = new LinkPatch();
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            var isNull = value.ValueKind == JsonValueKind.Null;
            switch (property.Name)
            {
                case "url":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return Fail("url", "url must be a string and cannot be removed");
                    }

                    var url = urlRules.Validate(value.GetString());
                    if (!url.IsValid)
                    {
                        return Fail("url", url.Error!);
                    }

                    patch = patch with { Url = url.Value };
                    break;

                case "expiresAt":
                    if (isNull)
                    {
                        patch = patch with { Clear = patch.Clear | LinkFields.ExpiresAt };
                        break;
                    }

                    if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var expires))
                    {
                        return Fail("expiresAt", "expiresAt must be an ISO 8601 date-time such as 2030-01-31T12:00:00Z, or null");
                    }

                    var checkedExpiry = LinkFieldRules.ExpiresAt(expires.ToUnixTimeMilliseconds(), nowMs);
                    if (!checkedExpiry.IsValid)
                    {
                        return Fail("expiresAt", checkedExpiry.Error!);
                    }

                    patch = patch with { ExpiresAt = checkedExpiry.Value };
                    break;

                case "maxVisits":
                    if (isNull)
                    {
                        patch = patch with { Clear = patch.Clear | LinkFields.MaxVisits };
                        break;
                    }

                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var max))
                    {
                        return Fail("maxVisits", "maxVisits must be a whole number, or null");
                    }

                    var checkedMax = LinkFieldRules.MaxVisits(max);
                    if (!checkedMax.IsValid)
                    {
                        return Fail("maxVisits", checkedMax.Error!);
                    }

                    patch = patch with { MaxVisits = checkedMax.Value };
                    break;

                case "redirectStatus":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var status))
                    {
                        return Fail("redirectStatus", "redirectStatus must be one of 301, 302, 307, 308");
                    }

                    var checkedStatus = LinkFieldRules.RedirectStatus(status);
                    if (!checkedStatus.IsValid)
                    {
                        return Fail("redirectStatus", checkedStatus.Error!);
                    }

                    patch = patch with { RedirectStatus = checkedStatus.Value };
                    break;

                case "tags":
                    if (!isNull && value.ValueKind != JsonValueKind.Array)
                    {
                        return Fail("tags", "tags must be an array of strings, or null");
                    }

                    var raw = isNull ? [] : value.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() : null).ToList();
                    var tags = LinkFieldRules.Tags(raw);
                    if (!tags.IsValid)
                    {
                        return Fail("tags", tags.Error!);
                    }

                    patch = patch with { Tags = tags.Value };
                    break;

                case "title":
                    if (isNull)
                    {
                        patch = patch with { Clear = patch.Clear | LinkFields.Title };
                        break;
                    }

                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return Fail("title", "title must be a string, or null");
                    }

                    var title = LinkFieldRules.Title(value.GetString()!);
                    if (!title.IsValid)
                    {
                        return Fail("title", title.Error!);
                    }

                    patch = patch with { Title = title.Value };
                    break;

                case "code" or "alias":
                    return Fail(property.Name, "a link's code cannot be changed; create a new link instead");

                default:
                    return (null, Problems.Result(ProblemKind.MalformedRequest, $"unknown field '{property.Name}'"));
            }
        }

        if (patch.IsEmpty)
        {
            return (null, Problems.Result(ProblemKind.MalformedRequest, "the patch changes nothing; send at least one of url, expiresAt, maxVisits, redirectStatus, tags, title"));
        }

        return (patch, null);
    }

    private static (LinkPatch?, IResult?) Fail(string field, string message) =>
        (null, Problems.Result(ProblemKind.InvalidField, message, new Dictionary<string, object?> { ["field"] = field }));
}
