namespace Shortener.Simulation.Commit;

/// <summary>
/// What a coordinator is waiting for, per transaction: a yes (a vote, or in 3PC an acknowledgement)
/// from every participant, by a deadline. In memory: a coordinator's crash loses it.
/// </summary>
internal sealed class VoteTally(int participants)
{
    private readonly Dictionary<int, (HashSet<int> Yes, long Deadline)> _waiting = [];

    public bool IsWaiting(int txn) => _waiting.ContainsKey(txn);

    public void Start(int txn, long deadline) => _waiting[txn] = ([], deadline);

    /// <summary>Counts a yes from <paramref name="from"/>; true once every participant said yes (the transaction is then no longer waited on).</summary>
    public bool Yes(int txn, int from)
    {
        if (!_waiting.TryGetValue(txn, out var waiting) || !waiting.Yes.Add(from) || waiting.Yes.Count < participants)
        {
            return false;
        }

        _waiting.Remove(txn);
        return true;
    }

    /// <summary>Stops waiting on the transaction; whether it was waited on.</summary>
    public bool Stop(int txn) => _waiting.Remove(txn);

    /// <summary>The transactions whose deadline passed at <paramref name="now"/>, no longer waited on.</summary>
    public List<int> TakeExpired(long now)
    {
        var expired = _waiting.Where(w => now >= w.Value.Deadline).Select(w => w.Key).ToList();
        expired.ForEach(txn => _waiting.Remove(txn));
        return expired;
    }

    public void Clear() => _waiting.Clear();
}
