namespace Shortener.Cli.Scenarios;

/// <summary>What a scenario's client asked a node to do.</summary>
public enum ScenarioOperationKind
{
    /// <summary>POST /api/v1/links, with an idempotency key.</summary>
    Create,

    /// <summary>PATCH /api/v1/links/{code} of its url, with an idempotency key.</summary>
    Update,

    /// <summary>GET /api/v1/links/{code}?consistency=linearizable.</summary>
    Read,

    /// <summary>GET /{code}, not followed: a redirect that records a click.</summary>
    Redirect,
}

/// <summary>How a request ended, as the client saw it.</summary>
public enum ScenarioOutcome
{
    /// <summary>Answered with success: acknowledged.</summary>
    Ok,

    /// <summary>Answered with a refusal that says nothing was done (503 no-quorum "nothing was written", 429, 4xx).</summary>
    Refused,

    /// <summary>No answer (timeout, reset) or a 503 that says the write may still be applied: the client cannot know.</summary>
    InDoubt,
}

/// <summary>What the retry of an in-doubt write with the same idempotency key found.</summary>
public enum DoubtResolution
{
    /// <summary>Not an in-doubt write, or not retried.</summary>
    None,

    /// <summary>The retry got the first result back (Idempotent-Replayed): the write had happened.</summary>
    FoundDone,

    /// <summary>The retry was judged anew: the write had not happened, and the retry did it.</summary>
    FoundNotDone,

    /// <summary>The retry failed too; the write's fate stays unknown.</summary>
    StillUnknown,
}

/// <summary>
/// One request of a scenario's workload. Times are milliseconds since the scenario started, on
/// the client's monotonic clock. <see cref="Value"/> is the url written (creates and updates);
/// <see cref="Output"/> the url read, or the Location of a redirect.
/// </summary>
public sealed record ScenarioOperation(
    int Worker,
    ulong Node,
    ScenarioOperationKind Kind,
    string Code,
    string? Value,
    long InvokeMs,
    long ReturnMs,
    ScenarioOutcome Outcome,
    int Status,
    string? Output = null,
    string? IdempotencyKey = null)
{
    public DoubtResolution Resolution { get; init; }

    /// <summary>When the retry that resolved the doubt returned (the write happened at most this late).</summary>
    public long ResolvedMs { get; init; }

    public bool IsWrite => Kind is ScenarioOperationKind.Create or ScenarioOperationKind.Update;

    public long LatencyMs => ReturnMs - InvokeMs;
}
