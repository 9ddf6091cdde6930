using Shortener.Core.Quorum;

namespace Shortener.Core.Clicks;

/// <summary>
/// Ships clicks from an outbox into the click store through this node's <see cref="ClickNode"/>,
/// one batch at a time, as a pure state machine: <see cref="Tick"/> starts a write when none is in
/// flight, and <see cref="Complete"/> takes its end. What a failed write does depends on the
/// <see cref="DeliveryMode"/>: exactly-once and at-least-once keep the batch and try again after a
/// backoff (the store deduplicates by click id in exactly-once; at-least-once gives every attempt
/// fresh ids, so an attempt that landed although it looked failed counts twice); at-most-once
/// drops it.
/// </summary>
public sealed class ClickRelay
{
    private readonly IClickOutbox _source;
    private readonly ClickNode _node;
    private readonly ClickRelaySettings _settings;
    private readonly SeededRandom _random;
    private (ulong Op, long LastSeq, int Count)? _inFlight;
    private long _shipped;
    private long _now;
    private long _retryAt;
    private int _failures;

    public ClickRelay(IClickOutbox source, ClickNode node, DeliveryMode mode, ConsistencyLevel level, ClickRelaySettings settings, SeededRandom random)
    {
        settings.Validate();
        _source = source;
        _node = node;
        _settings = settings;
        _random = random;
        Mode = mode;
        Level = level;
    }

    public DeliveryMode Mode { get; }

    public ConsistencyLevel Level { get; }

    /// <summary>Clicks written at the level.</summary>
    public long Shipped { get; private set; }

    /// <summary>Writes that failed (each retried, except in at-most-once).</summary>
    public long FailedAttempts { get; private set; }

    /// <summary>Clicks given up on (at-most-once only).</summary>
    public long Lost { get; private set; }

    /// <summary>Outbox records that were not clicks this version can read: skipped, and acknowledged.</summary>
    public long Undecodable { get; private set; }

    public bool Busy => _inFlight is not null;

    /// <summary>Failed attempts in a row (0 after a success); the driver logs the first.</summary>
    public int ConsecutiveFailures => _failures;

    public void Tick(long nowMs)
    {
        _now = Math.Max(_now, nowMs);
        if (_inFlight is not null || _now < _retryAt)
        {
            return;
        }

        // The outbox acknowledges only what it has synced: tell it again once it may have caught up.
        if (_source.Acknowledged < _shipped)
        {
            _source.Acknowledge(_shipped);
        }

        var records = _source.Read(Math.Max(_source.Acknowledged, _shipped), _settings.BatchSize);
        if (records.Count == 0)
        {
            return;
        }

        var events = new List<ClickEvent>(records.Count);
        foreach (var (_, payload) in records)
        {
            try
            {
                events.Add(ClickEvent.Decode(payload));
            }
            catch (FormatException)
            {
                Undecodable++;
            }
        }

        if (Mode == DeliveryMode.AtLeastOnce)
        {
            var attempt = _random.NextUInt64();
            events = events.Select(e => e with { Id = DeliveryId(e.Id, attempt) }).ToList();
        }

        if (events.Count == 0)
        {
            _shipped = records[^1].Seq;
            _source.Acknowledge(_shipped);
            return;
        }

        var op = _node.Write(events, Level);
        _inFlight = (op, records[^1].Seq, events.Count);
    }

    /// <summary>Takes the end of a write; false when it was not the relay's.</summary>
    public bool Complete(ClickCompletion completion)
    {
        if (_inFlight is not { } flight || flight.Op != completion.Op)
        {
            return false;
        }

        _inFlight = null;
        if (completion.Ok)
        {
            _shipped = flight.LastSeq;
            _source.Acknowledge(flight.LastSeq);
            Shipped += flight.Count;
            _failures = 0;
            _retryAt = 0;
            return true;
        }

        FailedAttempts++;
        if (Mode == DeliveryMode.AtMostOnce)
        {
            _shipped = flight.LastSeq;
            _source.Acknowledge(flight.LastSeq);
            Lost += flight.Count;
            return true;
        }

        _failures++;
        var backoff = Math.Min(_settings.RetryMaxMs, _settings.RetryMinMs << Math.Min(_failures - 1, 20));
        _retryAt = _now + (backoff / 2) + _random.Next((int)Math.Max(1, backoff / 2));
        return true;
    }

    /// <summary>The id one delivery attempt gives a click in at-least-once mode: every attempt counts anew.</summary>
    public static Guid DeliveryId(Guid id, ulong attempt)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        var lo = SplitMix64.Mix(BitConverter.ToUInt64(bytes) ^ attempt);
        var hi = SplitMix64.Mix(BitConverter.ToUInt64(bytes[8..]) ^ SplitMix64.Mix(attempt));
        BitConverter.TryWriteBytes(bytes, lo);
        BitConverter.TryWriteBytes(bytes[8..], hi);
        return new Guid(bytes);
    }
}
