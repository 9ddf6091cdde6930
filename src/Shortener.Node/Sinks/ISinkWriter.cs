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
/// One shard's events for one write, in offset order, under the deliverer's fencing token. A sink
/// that gathers writes before it sends them (Redis) calls <see cref="TopUp"/> just before the
/// call, so the events that arrived while the write waited for its turn go with it rather than a
/// turn later; after the write, <see cref="Changes"/> holds what was sent. Only the sending side
/// touches it until the write completes.
/// </summary>
public sealed class ShardBatch(int shard, ulong token, IReadOnlyList<LinkChange> changes, Func<ChangeOffset, int, IReadOnlyList<LinkChange>>? later = null, int limit = int.MaxValue)
{
    private readonly List<LinkChange> _changes = [.. changes];

    public int Shard => shard;

    public ulong Token => token;

    public IReadOnlyList<LinkChange> Changes => _changes;

    /// <summary>Adds the changes after the last one held that <c>later</c> has now, up to the batch's limit.</summary>
    public void TopUp()
    {
        if (later is not null && _changes.Count is > 0 and var count && count < limit)
        {
            _changes.AddRange(later(_changes[^1].Offset, limit - count));
        }
    }
}

/// <summary>
/// Writes one shard's events, in offset order, to a sink under a fencing token. Throws
/// <see cref="SinkRejectedException"/> when the sink refused the events, anything else for what
/// may succeed on a retry (the sink is down, slow, or failed); returns
/// <see cref="SinkWriteOutcome.Fenced"/> when the sink has seen a higher token for the shard,
/// which no retry will change.
/// </summary>
public interface ISinkWriter : IAsyncDisposable
{
    Task<SinkWrite> WriteAsync(ShardBatch batch, CancellationToken cancellationToken);

    /// <summary>Throws unless the sink can be reached now (checked when a sink is added).</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}
