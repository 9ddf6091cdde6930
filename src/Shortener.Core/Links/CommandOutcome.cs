namespace Shortener.Core.Links;

public enum CommandOutcome
{
    /// <summary>Applied; the state changed as asked (or was already so).</summary>
    Ok,

    /// <summary>A new link was created.</summary>
    Created,

    /// <summary>No link has that code.</summary>
    NotFound,

    /// <summary>The link exists but is deleted, expired or out of visits.</summary>
    Gone,

    /// <summary>The code is already taken.</summary>
    Conflict,

    /// <summary>The idempotency key was used before with a different request.</summary>
    IdempotencyMismatch,
}
