using Shortener.Core.Cluster;

namespace Shortener.Core.Clicks;

/// <summary>
/// The hashes every replica computes alike for a click: the key of the event in Merkle trees
/// (<see cref="IdHash"/>, from its id) and its value (<see cref="ContentHash"/>, from what it
/// says), so equal ids with different contents show up as differences.
/// </summary>
public static class ClickHashes
{
    public static ulong IdHash(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return SplitMix64.Mix(BitConverter.ToUInt64(bytes) ^ SplitMix64.Mix(BitConverter.ToUInt64(bytes[8..])));
    }

    public static ulong ContentHash(ClickEvent e) => ShardRouter.StableHash(e.Encode());

    /// <summary>
    /// Of two versions of one click id (only a bug or a damaged copy makes them), the one every
    /// replica keeps: the lower content hash, so replicas converge instead of repairing forever.
    /// </summary>
    public static bool Supersedes(ulong candidateContent, ulong keptContent) => candidateContent < keptContent;
}
