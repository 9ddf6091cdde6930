namespace Shortener.Core.Merkle;

/// <summary>"Send me the hashes of these nodes of one level": a step of a <see cref="MerkleComparison"/>.</summary>
public sealed record MerkleHashRequest(int Level, IReadOnlyList<int> Indexes)
{
    /// <summary>The other replica's answer, from its tree (same depth).</summary>
    public IReadOnlyList<ulong> AnswerFrom(MerkleTree tree) => Indexes.Select(i => tree.Hash(Level, i)).ToArray();
}
