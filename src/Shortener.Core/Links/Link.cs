namespace Shortener.Core.Links;

/// <summary>
/// A short link as the state machine stores it. Times are Unix milliseconds taken from the command
/// that set them, never from a clock, so replaying commands rebuilds exactly the same links.
/// </summary>
/// <param name="ValidSince">Before it the link does not redirect yet (Shlink's validSince).</param>
/// <param name="Crawlable">Search engines may follow it: /robots.txt allows it.</param>
/// <param name="ForwardQuery">A redirect appends the visitor's query string to <see cref="Url"/>.</param>
/// <param name="Owner">The owner of the key that made it, for keys limited to their owner's links; null for any other key.</param>
public sealed record Link(
    string Code,
    string Url,
    long CreatedAt,
    long UpdatedAt,
    long? ExpiresAt,
    long? MaxVisits,
    long Visits,
    int RedirectStatus,
    IReadOnlyList<string> Tags,
    string? Title,
    bool Deleted,
    long? ValidSince = null,
    bool Crawlable = false,
    bool ForwardQuery = false,
    string? Owner = null)
{
    public LinkState StateAt(long nowMs)
    {
        if (Deleted)
        {
            return LinkState.Deleted;
        }

        if (ValidSince is { } since && nowMs < since)
        {
            return LinkState.NotYetValid;
        }

        if (ExpiresAt is { } expires && nowMs >= expires)
        {
            return LinkState.Expired;
        }

        if (MaxVisits is { } max && Visits >= max)
        {
            return LinkState.Exhausted;
        }

        return LinkState.Active;
    }

    /// <summary>Whether a key limited to <paramref name="owner"/>'s links sees this one (null: a key that sees every link).</summary>
    public bool VisibleTo(string? owner) => owner is null || string.Equals(Owner, owner, StringComparison.Ordinal);

    /// <summary>Value equality including the tag list (records compare lists by reference).</summary>
    public bool SameAs(Link? other) =>
        other is not null
        && this with { Tags = [] } == other with { Tags = [] }
        && Tags.SequenceEqual(other.Tags, StringComparer.Ordinal);
}
