namespace Shortener.Core.Clicks;

/// <summary>An <see cref="IHintStore"/> in memory: for the simulator and tests.</summary>
public sealed class InMemoryHintStore : IHintStore
{
    private readonly SortedDictionary<ulong, List<(long Position, long StoredAt, ClickEvent Click)>> _owners = [];
    private long _nextPosition = 1;

    public IReadOnlyList<ulong> Owners => _owners.Where(o => o.Value.Count > 0).Select(o => o.Key).ToList();

    public long Count => _owners.Values.Sum(l => (long)l.Count);

    public void Add(ulong owner, IReadOnlyList<ClickEvent> clicks, long nowMs)
    {
        if (!_owners.TryGetValue(owner, out var list))
        {
            _owners[owner] = list = [];
        }

        list.AddRange(clicks.Select(c => (_nextPosition++, nowMs, c)));
    }

    public IReadOnlyList<(long Position, ClickEvent Click)> Pending(ulong owner, int max) =>
        _owners.TryGetValue(owner, out var list) ? list.Take(max).Select(h => (h.Position, h.Click)).ToList() : [];

    public void Delivered(ulong owner, long position)
    {
        if (_owners.TryGetValue(owner, out var list))
        {
            list.RemoveAll(h => h.Position <= position);
        }
    }

    public long Expire(long nowMs, long windowMs)
    {
        long dropped = 0;
        foreach (var list in _owners.Values)
        {
            dropped += list.RemoveAll(h => h.StoredAt < nowMs - windowMs);
        }

        return dropped;
    }
}
