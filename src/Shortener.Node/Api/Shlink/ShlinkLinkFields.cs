using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shortener.Core.Links;
using Shortener.Node.Hosting;

namespace Shortener.Node.Api.Shlink;

/// <summary>
/// The link fields of a Shlink create or edit body (longUrl, validSince, validUntil, maxVisits,
/// tags, title, crawlable, forwardQuery) as a <see cref="LinkPatch"/>, checked by this cluster's
/// rules. On an edit an explicit null clears validSince, validUntil, maxVisits or title.
/// </summary>
public static class ShlinkLinkFields
{
    public static (LinkPatch? Patch, IResult? Problem) Read(JsonElement body, long nowMs, NodeAddresses addresses, bool creating)
    {
        var longUrl = ShlinkRequest.String(body, "longUrl");
        var validSince = ShlinkRequest.Date(body, "validSince");
        var validUntil = ShlinkRequest.Date(body, "validUntil");
        var maxVisits = ShlinkRequest.Number(body, "maxVisits");
        var tags = ShlinkRequest.Strings(body, "tags");
        var title = ShlinkRequest.String(body, "title");
        var crawlable = ShlinkRequest.Bool(body, "crawlable");
        var forwardQuery = ShlinkRequest.Bool(body, "forwardQuery");
        if ((longUrl.Problem ?? validSince.Problem ?? validUntil.Problem ?? maxVisits.Problem ?? tags.Problem ?? title.Problem ?? crawlable.Problem ?? forwardQuery.Problem) is { } problem)
        {
            return (null, problem);
        }

        string? url = null;
        if (longUrl.Present || creating)
        {
            var checkedUrl = addresses.TargetRules.Validate(longUrl.Value);
            if (!checkedUrl.IsValid)
            {
                return (null, ShlinkProblems.Invalid("longUrl", checkedUrl.Error!));
            }

            url = checkedUrl.Value;
        }

        if (validUntil.Value is { } until && !LinkFieldRules.ExpiresAt(until, nowMs).IsValid)
        {
            return (null, ShlinkProblems.Invalid("validUntil", "validUntil must be in the future"));
        }

        if (validSince.Value is { } since && validUntil.Value is { } end && since >= end)
        {
            return (null, ShlinkProblems.Invalid("validSince", "validSince must be before validUntil"));
        }

        if (maxVisits.Value is { } max && !LinkFieldRules.MaxVisits(max).IsValid)
        {
            return (null, ShlinkProblems.Invalid("maxVisits", "maxVisits must be at least 1"));
        }

        IReadOnlyList<string>? checkedTags = null;
        if (tags.Value is { } rawTags)
        {
            var (normalised, tagProblem) = ShlinkRequest.Tags(rawTags);
            if (tagProblem is not null)
            {
                return (null, tagProblem);
            }

            checkedTags = normalised;
        }

        string? checkedTitle = null;
        if (title.Value is { } text)
        {
            var checkedText = LinkFieldRules.Title(text);
            if (!checkedText.IsValid)
            {
                return (null, ShlinkProblems.Invalid("title", checkedText.Error!));
            }

            checkedTitle = checkedText.Value;
        }

        var clear = LinkFields.None;
        clear |= validSince.IsNull ? LinkFields.ValidSince : LinkFields.None;
        clear |= validUntil.IsNull ? LinkFields.ExpiresAt : LinkFields.None;
        clear |= maxVisits.IsNull ? LinkFields.MaxVisits : LinkFields.None;
        clear |= title.IsNull ? LinkFields.Title : LinkFields.None;
        return (new LinkPatch(
            Url: url,
            ExpiresAt: validUntil.Value,
            MaxVisits: maxVisits.Value,
            Tags: checkedTags,
            Title: checkedTitle,
            Clear: creating ? LinkFields.None : clear,
            ValidSince: validSince.Value,
            Crawlable: crawlable.Value,
            ForwardQuery: forwardQuery.Value), null);
    }
}
