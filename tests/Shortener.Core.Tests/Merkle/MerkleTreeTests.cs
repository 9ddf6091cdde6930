using CsCheck;
using Shortener.Core.Merkle;
using Xunit.Abstractions;

namespace Shortener.Core.Tests.Merkle;

public class MerkleTreeTests(ITestOutputHelper output)
{
    private static readonly Gen<(ulong, ulong)[]> Records = Gen.Select(Gen.ULong, Gen.ULong).Array[0, 200];

    [Fact]
    public void Incremental_updates_give_the_tree_a_rebuild_would_in_any_order()
    {
        Gen.Select(Records, Gen.Int[1, 12]).Sample((records, depth) =>
        {
            var built = MerkleTree.Build(records, depth);
            var incremental = new MerkleTree(depth);
            foreach (var (k, v) in records.Reverse())
            {
                incremental.Add(k, v);
            }

            for (var level = 0; level <= depth; level++)
            {
                for (var i = 0; i < 1 << level; i++)
                {
                    Assert.Equal(built.Hash(level, i), incremental.Hash(level, i));
                }
            }

            if (records.Length > 0)
            {
                incremental.Remove(records[0].Item1, records[0].Item2);
                Assert.Equal(MerkleTree.Build(records.Skip(1), depth).Root, incremental.Root);
            }
        });
    }

    [Fact]
    public void Identical_replicas_agree_after_one_round_trip()
    {
        var records = Enumerable.Range(0, 1000).Select(i => (SplitMix64.Mix((ulong)i), (ulong)i)).ToArray();
        var a = MerkleTree.Build(records, 10);
        var b = MerkleTree.Build(records.Reverse(), 10);
        var comparison = new MerkleComparison(a);
        comparison.Answer(comparison.Next!.AnswerFrom(b));
        Assert.True(comparison.Done);
        Assert.Empty(comparison.DifferingLeaves);
        Assert.Equal(1, comparison.RoundTrips);
    }

    [Fact]
    public void A_comparison_finds_exactly_the_leaves_of_the_differing_keys()
    {
        Gen.Select(Gen.Int[1, 14], Gen.Int[1, 20], Gen.ULong).Sample((depth, d, seed) =>
        {
            var keys = Enumerable.Range(0, 500).Select(i => SplitMix64.Mix(seed + (ulong)i)).Distinct().ToArray();
            var local = keys.ToDictionary(k => k, k => k ^ 1);
            var remote = new Dictionary<ulong, ulong>(local);
            var changed = keys.Take(d).ToArray();
            foreach (var k in changed)
            {
                if (k % 2 == 0)
                {
                    remote[k] = k ^ 2;
                }
                else
                {
                    remote.Remove(k);
                }
            }

            var a = MerkleTree.Build(local.Select(kv => (kv.Key, kv.Value)), depth);
            var b = MerkleTree.Build(remote.Select(kv => (kv.Key, kv.Value)), depth);
            var comparison = Run(a, b);
            Assert.Equal(changed.Select(a.LeafOf).Distinct().Order(), comparison.DifferingLeaves.Order());
            Assert.True(comparison.HashesReceived <= 1 + (2L * d * depth), $"{comparison.HashesReceived} hashes for {d} differences at depth {depth}");
        });
    }

    /// <summary>
    /// Issue 5's bound: repairing d differing keys out of n moves a small multiple of d·log2(n) keys'
    /// worth (a key's worth: its 16-byte digest), plus the differing records themselves.
    /// </summary>
    [Theory]
    [InlineData(200_000, 1)]
    [InlineData(200_000, 10)]
    [InlineData(200_000, 100)]
    [InlineData(20_000, 100)]
    public void Repair_moves_only_what_differs(int n, int d)
    {
        const int DigestBytes = 16, HashBytes = 8, IndexBytes = 4, RecordBytes = 100;
        var keys = Enumerable.Range(0, n).Select(i => SplitMix64.Mix((ulong)i + 12345)).ToArray();
        var local = keys.ToDictionary(k => k, k => k ^ 0xABCDEF);
        var remote = new Dictionary<ulong, ulong>(local);
        var stride = n / d;
        var changed = Enumerable.Range(0, d).Select(i => keys[i * stride]).ToHashSet();
        foreach (var k in changed)
        {
            if (k % 3 == 0)
            {
                remote.Remove(k);
            }
            else
            {
                remote[k] = k;
            }
        }

        var depth = MerkleTree.DepthFor(n);
        var a = MerkleTree.Build(local.Select(kv => (kv.Key, kv.Value)), depth);
        var b = MerkleTree.Build(remote.Select(kv => (kv.Key, kv.Value)), depth);
        var comparison = Run(a, b);

        // Both sides list their records under the differing leaves; then each sends what the other lacks.
        var leaves = comparison.DifferingLeaves.ToHashSet();
        var localLeaf = local.Where(kv => leaves.Contains(a.LeafOf(kv.Key))).ToDictionary();
        var remoteLeaf = remote.Where(kv => leaves.Contains(b.LeafOf(kv.Key))).ToDictionary();
        var (push, pull) = MerkleComparison.Reconcile(localLeaf, remoteLeaf);
        Assert.Equal(changed.Order(), push.Union(pull).Order());

        var bytes = (comparison.IndexesSent * IndexBytes) + (comparison.HashesReceived * HashBytes)
            + ((long)(localLeaf.Count + remoteLeaf.Count) * DigestBytes) + ((long)(push.Count + pull.Count) * RecordBytes);
        var keysWorth = (double)d * Math.Log2(n) * DigestBytes;
        output.WriteLine($"n {n}, d {d}, depth {depth}: {comparison.RoundTrips} round trips, {comparison.HashesReceived} hashes, {localLeaf.Count + remoteLeaf.Count} digests, {push.Count + pull.Count} records: {bytes} bytes = {bytes / keysWorth:F2} x d·log2(n) keys' worth; a full digest exchange is {(long)n * DigestBytes} bytes");
        Assert.True(bytes <= (3 * keysWorth) + ((push.Count + pull.Count) * RecordBytes), $"{bytes} bytes for {d} differences");
    }

    private static MerkleComparison Run(MerkleTree local, MerkleTree remote)
    {
        var comparison = new MerkleComparison(local);
        while (comparison.Next is { } request)
        {
            comparison.Answer(request.AnswerFrom(remote));
        }

        return comparison;
    }

    [Fact]
    public void Bad_depths_and_answers_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(MerkleTree.MaxDepth + 1));
        var tree = new MerkleTree(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Hash(5, 0)); // a deeper replica's question
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Hash(2, 4));
        var comparison = new MerkleComparison(tree);
        Assert.Throws<ArgumentException>(() => comparison.Answer([1, 2]));
        Assert.Equal(20, MerkleTree.DepthFor(1_000_000));
        Assert.Equal(1, MerkleTree.DepthFor(0));
    }
}
