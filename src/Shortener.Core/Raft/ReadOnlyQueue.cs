namespace Shortener.Core.Raft;

/// <summary>
/// Read-index requests waiting for a heartbeat round to confirm the leader: each records the
/// commit index when it arrived and which voters acknowledged a heartbeat carrying its context.
/// Requests complete in arrival order: a quorum for a later one confirms the earlier ones too.
/// </summary>
internal sealed class ReadOnlyQueue
{
    private readonly Dictionary<string, Pending> _pending = [];
    private readonly List<string> _order = [];

    public int Count => _order.Count;

    public void Add(ulong index, RaftMessage request)
    {
        var key = Convert.ToHexString(request.Context);
        if (_pending.ContainsKey(key))
        {
            return;
        }

        _pending[key] = new Pending(index, request, []);
        _order.Add(key);
    }

    /// <summary>Records an acknowledgement; returns who has acknowledged this context (null if unknown).</summary>
    public IReadOnlyDictionary<ulong, bool>? Ack(ulong from, byte[] context)
    {
        if (!_pending.TryGetValue(Convert.ToHexString(context), out var pending))
        {
            return null;
        }

        pending.Acks[from] = true;
        return pending.Acks;
    }

    /// <summary>Removes and returns every request up to and including the one with <paramref name="context"/>.</summary>
    public IReadOnlyList<(ulong Index, RaftMessage Request)> Advance(byte[] context)
    {
        var key = Convert.ToHexString(context);
        var at = _order.IndexOf(key);
        if (at < 0)
        {
            return [];
        }

        var done = new List<(ulong, RaftMessage)>();
        for (var i = 0; i <= at; i++)
        {
            var p = _pending[_order[i]];
            done.Add((p.Index, p.Request));
            _pending.Remove(_order[i]);
        }

        _order.RemoveRange(0, at + 1);
        return done;
    }

    public byte[]? LastContext => _order.Count == 0 ? null : _pending[_order[^1]].Request.Context;

    private sealed record Pending(ulong Index, RaftMessage Request, Dictionary<ulong, bool> Acks);
}
