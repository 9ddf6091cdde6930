using Shortener.Core.Changes;

namespace Shortener.Node.Sinks;

/// <summary>What a write to a sink came to: taken (some events may have been ones it had), or refused for a stale fencing token.</summary>
public enum SinkWriteOutcome
{
    Delivered,
    Fenced,
}

/// <summary>
/// The sink refused the events themselves (a webhook's 4xx other than 408, 409 and 429): retrying
/// the same batch is bounded, and past the bound it goes to the dead letters. Anything else that
/// fails (down, slow, 5xx) is retried without end: a sink that is down lags, it loses nothing.
/// </summary>
public sealed class SinkRejectedException(string message) : Exception(message);

/// <summary>A write's outcome; <see cref="Added"/> counts the events the sink did not have yet, <see cref="HighestToken"/> the token it holds for the shard.</summary>
public readonly record struct SinkWrite(SinkWriteOutcome Outcome, int Added, ulong HighestToken);

/// <summary>
/// Writes one shard's events, in offset order, to a sink under a fencing token. Throws
/// <see cref="SinkRejectedException"/> when the sink refused the events, anything else for what
/// may succeed on a retry (the sink is down, slow, or failed); returns
/// <see cref="SinkWriteOutcome.Fenced"/> when the sink has seen a higher token for the shard,
/// which no retry will change.
/// </summary>
public interface ISinkWriter : IAsyncDisposable
{
    Task<SinkWrite> WriteAsync(int shard, ulong token, IReadOnlyList<LinkChange> changes, CancellationToken cancellationToken);

    /// <summary>Throws unless the sink can be reached now (checked when a sink is added).</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}
