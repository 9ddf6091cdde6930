namespace Shortener.Core.Clicks;

/// <summary>
/// What a replica did with a batch of clicks: <see cref="Added"/> were new; <see cref="Late"/>
/// belong to a link's day this replica has sealed, so they were not stored (without the day's
/// click ids it cannot tell a late click from a copy of one it counted).
/// </summary>
public readonly record struct StoredClicks(int Added, int Late);
