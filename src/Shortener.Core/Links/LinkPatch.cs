namespace Shortener.Core.Links;

/// <summary>
/// The fields an update changes. A null field is left as it is; the optional fields
/// (expiry, visit limit, title, start) are removed when named in <see cref="Clear"/>. The owner
/// never changes.
/// </summary>
public sealed record LinkPatch(
    string? Url = null,
    long? ExpiresAt = null,
    long? MaxVisits = null,
    int? RedirectStatus = null,
    IReadOnlyList<string>? Tags = null,
    string? Title = null,
    LinkFields Clear = LinkFields.None,
    long? ValidSince = null,
    bool? Crawlable = null,
    bool? ForwardQuery = null)
{
    public bool IsEmpty =>
        Url is null && ExpiresAt is null && MaxVisits is null && RedirectStatus is null && Tags is null && Title is null
        && ValidSince is null && Crawlable is null && ForwardQuery is null && Clear == LinkFields.None;
}
