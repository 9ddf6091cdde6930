namespace Shortener.Core.Merkle;

/// <summary>
/// The initiating side of a Merkle comparison between two replicas, as a state machine: each step
/// asks the other replica for the hashes of one level's nodes (<see cref="MerkleHashRequest"/>),
/// only the children of nodes that differed at the level above, starting at the root. After
/// <see cref="MerkleTree.Depth"/> + 1 round trips, <see cref="DifferingLeaves"/> are the leaves
/// whose keys the two must exchange. With d differing keys, at most 2·d·depth hashes travel,
/// however many keys the trees hold.
/// </summary>
public sealed class MerkleComparison
{
    private readonly MerkleTree _local;
    private readonly List<int> _differingLeaves = [];
    private MerkleHashRequest? _pending;

    public MerkleComparison(MerkleTree local)
    {
        _local = local;
        _pending = new MerkleHashRequest(0, [0]);
    }

    /// <summary>The next question for the other replica, or null when the comparison is done.</summary>
    public MerkleHashRequest? Next => _pending;

    public IReadOnlyList<int> DifferingLeaves => _differingLeaves;

    public bool Done => _pending is null;

    /// <summary>Node hashes that travelled so far (each 8 bytes), and node indexes asked for (each 4).</summary>
    public long HashesReceived { get; private set; }

    public long IndexesSent { get; private set; }

    public int RoundTrips { get; private set; }

    /// <summary>The answer to <see cref="Next"/>: the other replica's hashes, in the order asked.</summary>
    public void Answer(IReadOnlyList<ulong> hashes)
    {
        var asked = _pending ?? throw new InvalidOperationException("the comparison is done");
        if (hashes.Count != asked.Indexes.Count)
        {
            throw new ArgumentException($"asked for {asked.Indexes.Count} hashes, got {hashes.Count}", nameof(hashes));
        }

        RoundTrips++;
        IndexesSent += asked.Indexes.Count;
        HashesReceived += hashes.Count;
        var differing = new List<int>();
        for (var i = 0; i < hashes.Count; i++)
        {
            if (_local.Hash(asked.Level, asked.Indexes[i]) != hashes[i])
            {
                differing.Add(asked.Indexes[i]);
            }
        }

        if (asked.Level == _local.Depth)
        {
            _differingLeaves.AddRange(differing);
            _pending = null;
            return;
        }

        _pending = differing.Count == 0
            ? null
            : new MerkleHashRequest(asked.Level + 1, differing.SelectMany(i => new[] { 2 * i, (2 * i) + 1 }).ToArray());
    }

    /// <summary>
    /// Given both replicas' records under the differing leaves (key hash → value hash), which keys
    /// each side must send the other: keys only one side has, and keys whose values differ (both
    /// sides send theirs; the store merges them, CRDT-style).
    /// </summary>
    public static (IReadOnlyList<ulong> Push, IReadOnlyList<ulong> Pull) Reconcile(IReadOnlyDictionary<ulong, ulong> local, IReadOnlyDictionary<ulong, ulong> remote)
    {
        var push = new List<ulong>();
        var pull = new List<ulong>();
        foreach (var (key, value) in local)
        {
            if (!remote.TryGetValue(key, out var theirs))
            {
                push.Add(key);
            }
            else if (theirs != value)
            {
                push.Add(key);
                pull.Add(key);
            }
        }

        pull.AddRange(remote.Keys.Where(k => !local.ContainsKey(k)));
        push.Sort();
        pull.Sort();
        return (push, pull);
    }
}
