namespace Shortener.Node.Api;

/// <summary>Every kind of error the API reports. Each has a stable problem <c>type</c> URI and one HTTP status.</summary>
public enum ProblemKind
{
    MalformedRequest,
    InvalidField,
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Gone,
    AliasTaken,
    IdempotencyKeyReused,
    RateLimited,
    NotReady,
    NoQuorum,
    NotLeader,
    NoSuchMember,
    MembershipConflict,
    NoSuchKey,
    KeyConflict,
    ChangesExpired,
    NoSuchSink,
    SinkExists,
    SinkUnreachable,
    SinkConflict,
    ClicksUnavailable,
    ClicksDisabled,
    Internal,
}
