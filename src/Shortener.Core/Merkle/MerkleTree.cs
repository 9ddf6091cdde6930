namespace Shortener.Core.Merkle;

/// <summary>
/// A Merkle tree over one replica's records in a key range, for anti-entropy (as Cassandra and
/// Dynamo use them): two replicas compare roots, descend only into subtrees whose hashes differ,
/// and exchange only the keys under the leaves that differ. A complete binary tree of fixed depth;
/// leaf i holds the keys whose 64-bit key hash starts with the bits of i, so every replica puts a
/// key in the same leaf. A node's hash is the sum (mod 2^64) of its records' mixed (key, value)
/// digests, so a write updates the tree in O(depth) (<see cref="Add"/>, <see cref="Remove"/>)
/// instead of rebuilding it, and two subtrees holding different records differ with probability
/// 1 - 2^-64. Hashes live in an array in heap order: node 1 is the root, node k's children are 2k
/// and 2k + 1.
/// </summary>
public sealed class MerkleTree
{
    public const int MaxDepth = 24;

    private readonly ulong[] _nodes;

    public MerkleTree(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, MaxDepth);
        Depth = depth;
        _nodes = new ulong[2 << depth];
    }

    public int Depth { get; }

    public int LeafCount => 1 << Depth;

    public long Count { get; private set; }

    public ulong Root => _nodes[1];

    /// <summary>A depth giving about <paramref name="keysPerLeaf"/> keys per leaf for <paramref name="keys"/> keys (1 to <see cref="MaxDepth"/>).</summary>
    public static int DepthFor(long keys, int keysPerLeaf = 1) =>
        Math.Clamp((int)Math.Ceiling(Math.Log2(Math.Max(2.0, (double)keys / Math.Max(1, keysPerLeaf)))), 1, MaxDepth);

    public static MerkleTree Build(IEnumerable<(ulong KeyHash, ulong ValueHash)> records, int depth)
    {
        var tree = new MerkleTree(depth);
        foreach (var (key, value) in records)
        {
            tree._nodes[tree.LeafCount + tree.LeafOf(key)] += Digest(key, value);
            tree.Count++;
        }

        for (var i = tree.LeafCount - 1; i >= 1; i--)
        {
            tree._nodes[i] = tree._nodes[2 * i] + tree._nodes[(2 * i) + 1];
        }

        return tree;
    }

    public int LeafOf(ulong keyHash) => (int)(keyHash >> (64 - Depth));

    /// <summary>The hash of node <paramref name="index"/> (0-based, left to right) at <paramref name="level"/> (0 = root, <see cref="Depth"/> = leaves).</summary>
    public ulong Hash(int level, int index)
    {
        // A request from a replica with another depth, or a malformed one, must not read another level.
        if (level < 0 || level > Depth || index < 0 || index >= 1 << level)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"no node {index} at level {level} of a tree of depth {Depth}");
        }

        return _nodes[(1 << level) + index];
    }

    public void Add(ulong keyHash, ulong valueHash)
    {
        Adjust(keyHash, Digest(keyHash, valueHash));
        Count++;
    }

    public void Remove(ulong keyHash, ulong valueHash)
    {
        Adjust(keyHash, 0 - Digest(keyHash, valueHash));
        Count--;
    }

    /// <summary>A record's contribution: its key and value hashes mixed, so sums of different record sets collide only by chance.</summary>
    public static ulong Digest(ulong keyHash, ulong valueHash) => SplitMix64.Mix(keyHash ^ SplitMix64.Mix(valueHash + 0x9E3779B97F4A7C15UL));

    private void Adjust(ulong keyHash, ulong delta)
    {
        for (var node = LeafCount + LeafOf(keyHash); node >= 1; node >>= 1)
        {
            _nodes[node] += delta;
        }
    }
}
