namespace Shortener.Core.Quorum;

/// <summary>
/// Counts the answers to one read or write against its consistency level: succeeded once enough
/// replicas acknowledged, failed as soon as too many failed for that to happen. The number needed
/// comes from the key's owners (its N replicas), not from the copies that could be sent: a replica
/// down with no stand-in makes the level harder to reach, never easier. For LOCAL_QUORUM it is a
/// majority of the owners in the coordinator's data centre, and only copies held there count (a
/// stand-in there counts for its owner; one in another data centre does not; a key with no owner
/// there needs one copy anywhere, as at ONE). An answer from a
/// node is counted once, whatever it said first.
/// </summary>
public sealed class QuorumTracker
{
    private readonly IReadOnlyList<ReplicaTarget> _replicas;
    private readonly HashSet<ulong> _acked = [];
    private readonly HashSet<ulong> _failed = [];
    private readonly int _required;
    private readonly Func<ReplicaTarget, bool> _counts;

    /// <param name="owners">The key's replicas (its preference list) with their data centres.</param>
    /// <param name="replicas">The copies sent: to owners that are up and to stand-ins for those that are not.</param>
    public QuorumTracker(ConsistencyLevel level, IReadOnlyList<(ulong Node, string Dc)> owners, IReadOnlyList<ReplicaTarget> replicas, string localDc)
    {
        _replicas = replicas;
        Level = level;
        var n = owners.Count;
        (_required, _counts) = level switch
        {
            ConsistencyLevel.One => (1, (Func<ReplicaTarget, bool>)(_ => true)),
            ConsistencyLevel.Quorum => ((n / 2) + 1, _ => true),
            ConsistencyLevel.All => (n, _ => true),
            // A key with no owner in this data centre (more data centres than N) cannot have a local
            // majority: its copies anywhere count, one is enough, as at ONE.
            _ when owners.All(o => o.Dc != localDc) => (1, _ => true),
            _ => ((owners.Count(o => o.Dc == localDc) / 2) + 1, r => r.Dc == localDc && r.NodeDc == localDc),
        };
        Update();
    }

    public ConsistencyLevel Level { get; }

    public int Required => _required;

    public int Acknowledged => _acked.Count(Counts);

    public QuorumOutcome Outcome { get; private set; }

    /// <summary>Nodes sent a copy that have not answered yet.</summary>
    public IEnumerable<ulong> Open => _replicas.Select(r => r.Node).Where(n => !_acked.Contains(n) && !_failed.Contains(n));

    public void Ack(ulong node) => Answer(node, _acked);

    public void Fail(ulong node) => Answer(node, _failed);

    private void Answer(ulong node, HashSet<ulong> into)
    {
        if (_acked.Contains(node) || _failed.Contains(node) || _replicas.All(r => r.Node != node))
        {
            return;
        }

        into.Add(node);
        Update();
    }

    private bool Counts(ulong node) => _replicas.Any(r => r.Node == node && _counts(r));

    private void Update()
    {
        if (Outcome != QuorumOutcome.Pending)
        {
            return;
        }

        var eligible = _replicas.Where(r => _counts(r)).ToList();
        var acked = eligible.Count(r => _acked.Contains(r.Node));
        var open = eligible.Count(r => !_acked.Contains(r.Node) && !_failed.Contains(r.Node));
        Outcome = acked >= _required ? QuorumOutcome.Succeeded : acked + open < _required ? QuorumOutcome.Failed : QuorumOutcome.Pending;
    }
}
