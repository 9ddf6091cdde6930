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
public sealed class HintedHandoffQueue : IDisposable
{
    private readonly string _directory;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, ClickOutbox> _owners = [];

    private HintedHandoffQueue(string directory) => _directory = directory;

    public static HintedHandoffQueue Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var queue = new HintedHandoffQueue(directory);
        foreach (var sub in Directory.GetDirectories(directory))
        {
            if (ulong.TryParse(Path.GetFileName(sub), NumberStyles.None, CultureInfo.InvariantCulture, out var owner))
            {
                queue._owners[owner] = ClickOutbox.Open(sub);
            }
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
    public void Add(ulong owner, IReadOnlyList<ClickEvent> clicks, long nowMs)
    {
        var outbox = For(owner);
        foreach (var click in clicks)
        {
            var encoded = click.Encode();
            var record = new byte[8 + encoded.Length];
            BinaryPrimitives.WriteInt64LittleEndian(record, nowMs);
            encoded.CopyTo(record, 8);
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
        lock (_lock)
        {
            _owners.GetValueOrDefault(owner)?.Acknowledge(position);
        }
    }

    /// <summary>Drops hints stored before <paramref name="nowMs"/> − <paramref name="windowMs"/>; returns how many.</summary>
    public long Expire(long nowMs, long windowMs)
    {
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
            foreach (var outbox in _owners.Values)
            {
                outbox.Dispose();
            }

            _owners.Clear();
        }
    }

    private ClickOutbox For(ulong owner)
    {
        lock (_lock)
        {
            if (!_owners.TryGetValue(owner, out var outbox))
            {
                outbox = ClickOutbox.Open(Path.Combine(_directory, owner.ToString(CultureInfo.InvariantCulture)));
                _owners[owner] = outbox;
            }

            return outbox;
        }
    }
}
