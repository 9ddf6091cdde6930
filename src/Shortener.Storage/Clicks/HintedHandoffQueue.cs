using System.Buffers.Binary;
using System.Globalization;
using Shortener.Core.Clicks;

namespace Shortener.Storage.Clicks;

/// <summary>
/// Durable hints: clicks this node holds for replicas that were down when they were written
/// (sloppy quorum), one <see cref="ClickOutbox"/> per owner under <c>hints/&lt;owner&gt;</c>. When
/// the owner is back, <see cref="Pending"/> lists its hints for replay and
/// <see cref="Delivered"/> drops what it acknowledged. Hints older than the window are dropped
/// (<see cref="Expire"/>): by then anti-entropy has repaired the owner, and an owner gone for good
/// must not fill this disk. Each record is [u64 stored-at ms][encoded click].
/// </summary>
public sealed class HintedHandoffQueue : IHintStore, IDisposable
{
    private readonly string _directory;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, ClickOutbox> _owners = [];
    private readonly Dictionary<ulong, long> _lastStamp = [];
    private bool _disposed;

    private HintedHandoffQueue(string directory) => _directory = directory;

    public static HintedHandoffQueue Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var queue = new HintedHandoffQueue(directory);
        try
        {
            foreach (var sub in Directory.GetDirectories(directory))
            {
                var name = Path.GetFileName(sub);
                // Only the names this class makes ("7", never "007"), so one owner has one queue.
                if (ulong.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                    && owner.ToString(CultureInfo.InvariantCulture) == name)
                {
                    queue._owners[owner] = ClickOutbox.Open(sub);
                }
            }
        }
        catch
        {
            queue.Dispose();
            throw;
        }

        return queue;
    }

    /// <summary>Owners with hints waiting.</summary>
    public IReadOnlyList<ulong> Owners
    {
        get
        {
            lock (_lock)
            {
                return _owners.Where(o => o.Value.Depth > 0).Select(o => o.Key).Order().ToList();
            }
        }
    }

    /// <summary>Hints waiting, over all owners.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _owners.Values.Sum(o => o.Depth);
            }
        }
    }

    /// <summary>Keeps <paramref name="clicks"/> for <paramref name="owner"/>, durably (fsynced) before it returns: the write counts this copy.</summary>
    /// <exception cref="ArgumentException">A click that cannot be encoded: nothing of the batch is kept.</exception>
    public void Add(ulong owner, IReadOnlyList<ClickEvent> clicks, long nowMs)
    {
        // Every click encoded before the first is appended, so a bad one keeps none of the batch.
        var encoded = clicks.Select(c => c.Encode()).ToList();
        var outbox = For(owner, nowMs, out var stamp);
        foreach (var click in encoded)
        {
            var record = new byte[8 + click.Length];
            BinaryPrimitives.WriteInt64LittleEndian(record, stamp);
            click.CopyTo(record, 8);
            outbox.Append(record);
        }

        outbox.Flush();
    }

    /// <summary>Up to <paramref name="max"/> of <paramref name="owner"/>'s hints, oldest first, each with its position for <see cref="Delivered"/>.</summary>
    public IReadOnlyList<(long Position, ClickEvent Click)> Pending(ulong owner, int max)
    {
        ClickOutbox? outbox;
        lock (_lock)
        {
            outbox = _owners.GetValueOrDefault(owner);
        }

        return outbox is null
            ? []
            : outbox.Read(outbox.Acknowledged, max).Select(r => (r.Seq, ClickEvent.Decode(r.Payload.AsSpan(8)))).ToList();
    }

    /// <summary>The owner stored every hint up to <paramref name="position"/>.</summary>
    public void Delivered(ulong owner, long position)
    {
        ClickOutbox? outbox;
        lock (_lock)
        {
            outbox = _owners.GetValueOrDefault(owner);
        }

        // Outside the lock: the acknowledgement's fsync must not stall hints for other owners.
        outbox?.Acknowledge(position);
    }

    /// <summary>Drops hints stored before <paramref name="nowMs"/> − <paramref name="windowMs"/>; returns how many.</summary>
    public long Expire(long nowMs, long windowMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(windowMs);
        List<ClickOutbox> outboxes;
        lock (_lock)
        {
            outboxes = [.. _owners.Values];
        }

        long dropped = 0;
        foreach (var outbox in outboxes)
        {
            long last = outbox.Acknowledged;
            while (true)
            {
                var page = outbox.Read(last, 256);
                var old = page.TakeWhile(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload) < nowMs - windowMs).ToList();
                if (old.Count == 0)
                {
                    break;
                }

                dropped += old.Count;
                last = old[^1].Seq;
                outbox.Acknowledge(last);
                if (old.Count < page.Count)
                {
                    break;
                }
            }
        }

        return dropped;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var outbox in _owners.Values)
            {
                outbox.Dispose();
            }

            _owners.Clear();
        }
    }

    /// <summary>The owner's queue, and the time to stamp new hints with: never earlier than the last stamp this process gave, so expiry (which stops at the first fresh hint) sees them in order.</summary>
    private ClickOutbox For(ulong owner, long nowMs, out long stamp)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_owners.TryGetValue(owner, out var outbox))
            {
                outbox = ClickOutbox.Open(Path.Combine(_directory, owner.ToString(CultureInfo.InvariantCulture)));
                _owners[owner] = outbox;
            }

            stamp = Math.Max(nowMs, _lastStamp.GetValueOrDefault(owner));
            _lastStamp[owner] = stamp;
            return outbox;
        }
    }
}
