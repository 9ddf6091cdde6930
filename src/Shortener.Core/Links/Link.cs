namespace Shortener.Core.Links;

/// <summary>
/// A short link as the state machine stores it. Times are Unix milliseconds taken from the command
/// that set them, never from a clock, so replaying commands rebuilds exactly the same links.
/// </summary>
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
    bool Deleted)
{
    public LinkState StateAt(long nowMs)
    {
        if (Deleted)
        {
            return LinkState.Deleted;
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

    /// <summary>Value equality including the tag list (records compare lists by reference).</summary>
    public bool SameAs(Link? other) =>
        other is not null
        && this with { Tags = [] } == other with { Tags = [] }
        && Tags.SequenceEqual(other.Tags, StringComparer.Ordinal);
}
