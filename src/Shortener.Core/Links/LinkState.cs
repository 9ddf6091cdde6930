namespace Shortener.Core.Links;

/// <summary>Whether a link redirects now, and if not, why not. Only <see cref="Active"/> redirects.</summary>
public enum LinkState
{
    Active,
    NotYetValid,
    Expired,
    Exhausted,
    Deleted,
}
