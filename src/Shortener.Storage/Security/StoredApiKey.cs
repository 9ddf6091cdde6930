namespace Shortener.Storage.Security;

/// <summary>An API key as stored: only the SHA-256 of the key, never the key itself.</summary>
public sealed record StoredApiKey(string Id, string Hash, string Source, long CreatedAt);
