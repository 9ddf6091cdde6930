namespace Shortener.Core.Clicks;

/// <summary>
/// Where <see cref="ClickRelay"/> takes clicks from: records in sequence order, read after a
/// position and acknowledged once shipped. The node's durable outbox, or a queue in memory for
/// at-most-once delivery.
/// </summary>
public interface IClickOutbox
{
    /// <summary>The last sequence acknowledged.</summary>
    long Acknowledged { get; }

    /// <summary>Records appended and not acknowledged.</summary>
    long Depth { get; }

    /// <summary>Up to <paramref name="max"/> records after sequence <paramref name="after"/>, in order.</summary>
    IReadOnlyList<(long Seq, byte[] Payload)> Read(long after, int max);

    void Acknowledge(long upTo);
}
