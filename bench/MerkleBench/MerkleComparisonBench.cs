using BenchmarkDotNet.Attributes;
using Shortener.Core;
using Shortener.Core.Merkle;

namespace Shortener.Bench.Merkle;

/// <summary>
/// Two replicas of 1M keys that differ in <see cref="Differences"/> of them. Baseline: what a
/// replica does without a tree, walking both sorted lists of every key's (key hash, value hash)
/// digest (and shipping 16 MB). Against it: a Merkle comparison of the two replicas' trees (depth 20,
/// about one key per leaf), answers taken from the other tree in process, so the figure is the
/// comparison's CPU and not the network. Building a tree from scratch is measured too; a store
/// keeps its tree up to date per write instead (O(depth)).
/// </summary>
[MemoryDiagnoser]
public class MerkleComparisonBench
{
    private const int Keys = 1_000_000;
    private (ulong Key, ulong Value)[] _a = [];
    private (ulong Key, ulong Value)[] _b = [];
    private MerkleTree _treeA = null!;
    private MerkleTree _treeB = null!;

    [Params(10, 1000)]
    public int Differences { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = Enumerable.Range(0, Keys).Select(i => (SplitMix64.Mix((ulong)i), (ulong)i)).OrderBy(r => r.Item1).ToArray();
        _b = ((ulong, ulong)[])_a.Clone();
        var stride = Keys / Differences;
        for (var i = 0; i < Differences; i++)
        {
            _b[i * stride].Item2 ^= 0xFFFF;
        }

        var depth = MerkleTree.DepthFor(Keys);
        _treeA = MerkleTree.Build(_a, depth);
        _treeB = MerkleTree.Build(_b, depth);
    }

    [Benchmark(Baseline = true, Description = "exchange and walk every digest")]
    public int EveryDigest()
    {
        var differing = 0;
        for (var i = 0; i < _a.Length; i++)
        {
            if (_a[i] != _b[i])
            {
                differing++;
            }
        }

        return differing;
    }

    [Benchmark(Description = "Merkle comparison")]
    public int Compare()
    {
        var comparison = new MerkleComparison(_treeA);
        while (comparison.Next is { } request)
        {
            comparison.Answer(request.AnswerFrom(_treeB));
        }

        return comparison.DifferingLeaves.Count;
    }

    [Benchmark(Description = "build a tree from 1M records")]
    public ulong Build() => MerkleTree.Build(_a, 20).Root;
}
