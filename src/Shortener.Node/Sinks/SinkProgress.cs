using System.Text.Json;
using Shortener.Core.Changes;

namespace Shortener.Node.Sinks;

/// <summary>Events a sink would not take within the retry bound: their ids, and why (docs/cdc.md, dead letters).</summary>
public sealed record DeadLetter(string FromId, string ToId, int Count, string Error, long At);

/// <summary>
/// How far a sink's delivery of one shard got, as the shard's lease keeps it
/// (<see cref="Core.Leases.Lease.Progress"/>): the offset delivered through, and the latest dead
/// letters. Written only by the lease's holder under its token, so a new holder resumes here.
/// </summary>
public sealed record SinkProgress(ulong Index, int Position, IReadOnlyList<DeadLetter>? Dead = null)
{
    /// <summary>The dead letters kept per shard (the newest); older ones are counted in /metrics and the logs only.</summary>
    public const int MaxDeadLetters = 20;

    public static SinkProgress Start { get; } = new(0, 0);

    /// <summary>The offset delivered through; null before the first event (deliver from the oldest kept).</summary>
    public ChangeOffset? After(int shard) => Index == 0 ? null : new ChangeOffset(shard, Index, Position);

    public SinkProgress Through(ChangeOffset offset) => this with { Index = offset.Index, Position = offset.Position };

    public SinkProgress WithDead(DeadLetter letter) =>
        this with { Dead = [.. (Dead ?? []).TakeLast(MaxDeadLetters - 1), letter] };

    public string Serialize() => JsonSerializer.Serialize(this, SinkJsonContext.Default.SinkProgress);

    /// <summary>The progress a lease carries; a lease without any (or with one this version cannot read) starts from the oldest kept event.</summary>
    public static SinkProgress Parse(string? progress)
    {
        if (progress is null)
        {
            return Start;
        }

        try
        {
            return JsonSerializer.Deserialize(progress, SinkJsonContext.Default.SinkProgress) ?? Start;
        }
        catch (JsonException)
        {
            return Start;
        }
    }
}
