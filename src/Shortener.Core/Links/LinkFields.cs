namespace Shortener.Core.Links;

/// <summary>The optional link fields an update can remove.</summary>
[Flags]
public enum LinkFields
{
    None = 0,
    ExpiresAt = 1,
    MaxVisits = 2,
    Title = 4,
    ValidSince = 8,
}
