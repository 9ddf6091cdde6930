using System.Text.Json;
using System.Text.Json.Serialization;
using Shortener.Core.Clocks;
using Shortener.Node.Clocks;

namespace Shortener.Node.Observability;

/// <summary>What a journal entry records (camelCase in JSON: roleChanged, faultApplied, ...).</summary>
[JsonConverter(typeof(JournalKindJsonConverter))]
public enum JournalKind
{
    /// <summary>This node's role, term or known leader of a shard changed.</summary>
    RoleChanged,

    /// <summary>An injected fault took effect here.</summary>
    FaultApplied,

    /// <summary>Injected faults were healed here (by request).</summary>
    FaultHealed,

    /// <summary>A timed fault ended here on its own.</summary>
    FaultEnded,

    /// <summary>A link write was refused for want of a quorum (503 no-quorum).</summary>
    WriteRefused,

    /// <summary>An operator asked this node's leader of a shard to hand leadership over.</summary>
    LeadershipTransfer,

    /// <summary>The click store's handoff and repair work since the last entry of this kind: hints held and handed over, read repairs, sealed-day merges.</summary>
    ClickRepair,
}

/// <summary>Journal kinds as camelCase strings, as every other name in the API.</summary>
public sealed class JournalKindJsonConverter() : JsonStringEnumConverter<JournalKind>(JsonNamingPolicy.CamelCase);

/// <summary>
/// One thing a node did. <see cref="Seq"/> orders one node's entries; <see cref="AtMs"/> is the
/// node's wall clock (Unix ms), comparable across nodes only as far as their clocks agree;
/// <see cref="Hlc"/> is the node's hybrid logical clock, which every peer message carries, so an
/// entry caused by another node's action (a vote won, a fault fanned out) orders after it.
/// </summary>
public sealed record JournalEntry(long Seq, long AtMs, HlcTimestamp Hlc, ulong Node, JournalKind Kind, int? Shard, ulong? Term, string Detail);

/// <summary>
/// A bounded journal of what this node did that a person asking "what happened?" wants to know:
/// role and term changes per shard, faults applied and healed, writes refused for want of a quorum,
/// leadership transfers, click handoff and repair. It keeps the last <see cref="Capacity"/>
/// entries (older ones are dropped and counted), is served at GET /admin/v1/journal, and is read
/// by `shortener scenario`. Thread-safe; recording is a lock and an array write.
/// </summary>
public sealed class NodeJournal
{
    public const int DefaultCapacity = 20_000;

    private readonly Lock _lock = new();
    private readonly JournalEntry?[] _ring;
    private readonly TimeProvider _time;
    private readonly NodeClock _clock;
    private long _next = 1;

    public NodeJournal(TimeProvider time, NodeClock clock, ulong node, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _clock = clock;
        Node = node;
        _ring = new JournalEntry?[capacity];
    }

    public ulong Node { get; }

    public int Capacity => _ring.Length;

    /// <summary>Entries dropped to keep the journal within its capacity.</summary>
    public long Dropped
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(0, _next - 1 - _ring.Length);
            }
        }
    }

    public void Record(JournalKind kind, string detail, int? shard = null, ulong? term = null)
    {
        var at = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            // Stamped under the journal's lock, so one node's entries keep the clock's order.
            var seq = _next++;
            _ring[seq % _ring.Length] = new JournalEntry(seq, at, _clock.Now(), Node, kind, shard, term, detail);
        }
    }

    /// <summary>Up to <paramref name="limit"/> entries after sequence number <paramref name="after"/>, oldest first (entries already dropped are skipped).</summary>
    public IReadOnlyList<JournalEntry> After(long after, int limit)
    {
        lock (_lock)
        {
            var first = Math.Max(after + 1, Math.Max(1, _next - _ring.Length));
            var entries = new List<JournalEntry>((int)Math.Min(limit, Math.Max(0, _next - first)));
            for (var seq = first; seq < _next && entries.Count < limit; seq++)
            {
                entries.Add(_ring[seq % _ring.Length]!);
            }

            return entries;
        }
    }
}
