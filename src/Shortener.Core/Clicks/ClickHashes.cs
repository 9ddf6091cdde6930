using Shortener.Core.Cluster;
using Shortener.Core.Merkle;
using Shortener.Core.Quorum;

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

    /// <summary>A click's share of a fingerprint: its id and content hashes mixed (<see cref="MerkleTree.Digest"/>); sums of these compose.</summary>
    public static ulong Digest(ClickEvent e) => MerkleTree.Digest(IdHash(e.Id), ContentHash(e));

    /// <summary>The key of one link's day, its daily counter, in the first tree of an anti-entropy exchange.</summary>
    public static ulong DayKey(string code, int day) => SplitMix64.Mix(HashRing.KeyHash(code) ^ SplitMix64.Mix((ulong)(uint)day + 0x2545F4914F6CDD1DUL));

    /// <summary>
    /// The value of an open day's counter in that tree: its counts and the fingerprint of the clicks
    /// behind them; the lowest bit clear (<see cref="IsSealed"/>).
    /// </summary>
    public static ulong DayValue(long human, long bots, ulong fingerprint) =>
        SplitMix64.Mix(fingerprint ^ SplitMix64.Mix((ulong)human ^ SplitMix64.Mix((ulong)bots + 0x9E3779B97F4A7C15UL))) & ~1UL;

    /// <summary>The value of a sealed day in that tree: the hash of its record (versions and all), the lowest bit set.</summary>
    public static ulong SealedValue(SealedDayRecord record) => SealedValue(record.Hash);

    /// <summary>The same from the record's hash alone (what a store keeps beside the record).</summary>
    public static ulong SealedValue(ulong recordHash) => recordHash | 1UL;

    /// <summary>Whether a value in the first tree is a sealed day's (<see cref="SealedValue"/>) rather than an open day's (<see cref="DayValue"/>).</summary>
    public static bool IsSealed(ulong dayValue) => (dayValue & 1UL) != 0;

    /// <summary>
    /// Of two versions of one click id (only a bug or a damaged copy makes them), the one every
    /// replica keeps: the lower content hash, so replicas converge instead of repairing forever.
    /// </summary>
    public static bool Supersedes(ulong candidateContent, ulong keptContent) => candidateContent < keptContent;
}
