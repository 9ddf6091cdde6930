using Shortener.Core.Links;
using Shortener.Node.Hosting;

namespace Shortener.Node.Api;

/// <summary>The checks a create request passes before it becomes a command: one place for a single create and for each item of a batch.</summary>
internal static class CreateLinkValidation
{
    /// <summary>
    /// The command <paramref name="request"/> asks for at <paramref name="now"/> (with no alias:
    /// an empty code, <see cref="CreateLink.Generated"/>, for the caller to draw one), or the first
    /// field that is wrong and why.
    /// </summary>
    public static (CreateLink? Command, string? Field, string? Error) Build(CreateLinkRequest request, long now, NodeAddresses addresses, string? owner)
    {
        var url = addresses.TargetRules.Validate(request.Url);
        if (!url.IsValid)
        {
            return (null, "url", url.Error);
        }

        string? alias = null;
        if (request.Alias is not null)
        {
            var checkedAlias = AliasRules.Validate(request.Alias);
            if (!checkedAlias.IsValid)
            {
                return (null, "alias", checkedAlias.Error);
            }

            alias = checkedAlias.Value;
        }

        long? expiresAt = null;
        if (request.ExpiresAt is { } e)
        {
            var checkedExpiry = LinkFieldRules.ExpiresAt(e.ToUnixTimeMilliseconds(), now);
            if (!checkedExpiry.IsValid)
            {
                return (null, "expiresAt", checkedExpiry.Error);
            }

            expiresAt = checkedExpiry.Value;
        }

        long? maxVisits = null;
        if (request.MaxVisits is { } m)
        {
            var checkedMax = LinkFieldRules.MaxVisits(m);
            if (!checkedMax.IsValid)
            {
                return (null, "maxVisits", checkedMax.Error);
            }

            maxVisits = checkedMax.Value;
        }

        var status = LinkFieldRules.RedirectStatus(request.RedirectStatus);
        if (!status.IsValid)
        {
            return (null, "redirectStatus", status.Error);
        }

        var tags = LinkFieldRules.Tags(request.Tags);
        if (!tags.IsValid)
        {
            return (null, "tags", tags.Error);
        }

        string? title = null;
        if (request.Title is not null)
        {
            var checkedTitle = LinkFieldRules.Title(request.Title);
            if (!checkedTitle.IsValid)
            {
                return (null, "title", checkedTitle.Error);
            }

            title = checkedTitle.Value;
        }

        return (new CreateLink(now, alias ?? string.Empty, url.Value!, expiresAt, maxVisits, status.Value, tags.Value!, title, Generated: alias is null, Owner: owner), null, null);
    }
}
