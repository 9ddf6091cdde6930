namespace Shortener.Core.Membership;

/// <summary>
/// Updates waiting to be piggybacked, at most one per member (a newer update about a member
/// replaces the older). The least-sent go first, newest first among equals; each is sent a
/// limited number of times, which grows with log(n) so an update still reaches everyone w.h.p.
/// </summary>
internal sealed class BroadcastQueue
{
    private readonly Dictionary<ulong, (MemberUpdate Update, int Transmits, long Order)> _pending = [];
    private long _order;

    public int Count => _pending.Count;

    public void Enqueue(MemberUpdate update) => _pending[update.Member.Id] = (update, 0, _order++);

    public IReadOnlyList<MemberUpdate> Take(int max, int retransmitLimit)
    {
        if (_pending.Count == 0)
        {
            return [];
        }

        var chosen = _pending.Values
            .OrderBy(p => p.Transmits)
            .ThenByDescending(p => p.Order)
            .Take(max)
            .ToList();
        foreach (var (update, transmits, order) in chosen)
        {
            if (transmits + 1 >= retransmitLimit)
            {
                _pending.Remove(update.Member.Id);
            }
            else
            {
                _pending[update.Member.Id] = (update, transmits + 1, order);
            }
        }

        return chosen.Select(c => c.Update).ToList();
    }
}
