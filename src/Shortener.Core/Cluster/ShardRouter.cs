using System.Text;
using Shortener.Core.Links;

namespace Shortener.Core.Cluster;

/// <summary>
/// Which shard owns a code. A string that could be a generated code (exactly the code length, all
/// base62) belongs to the shard its unscrambled number names (number mod shard count), which is
/// where the allocator drew it from; every other string (aliases with '-' or '_', other lengths)
/// by a stable hash. Either way the answer is a function of the string alone, so one code has one
/// owner and uniqueness checked by that owner is uniqueness across the cluster.
/// </summary>
public sealed class ShardRouter
{
    private readonly CodeScrambler _scrambler;

    public ShardRouter(CodeScrambler scrambler, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        _scrambler = scrambler;
        Shards = shards;
    }

    public int Shards { get; }

    public CodeScrambler Scrambler => _scrambler;

    public int ShardOf(string code)
    {
        if (code.Length == _scrambler.Length && Base62.TryDecode(code, out var value) && value < _scrambler.Domain)
        {
            return (int)(_scrambler.Unscramble(value) % (ulong)Shards);
        }

        return (int)(StableHash(code) % (ulong)Shards);
    }

    /// <summary>The shard a generated create with this idempotency key goes to, so its retries find the first result.</summary>
    public int ShardOfIdempotencyKey(string scope, string key) => (int)(StableHash(scope + "\n" + key) % (ulong)Shards);

    /// <summary>An allocator that draws only codes owned by <paramref name="shard"/> from that shard's leased blocks.</summary>
    public ShortCodeAllocator AllocatorFor(int shard) => new(_scrambler, (ulong)shard, (ulong)Shards);

    /// <summary>FNV-1a over UTF-8, finished with a SplitMix64 round: the same on every node and every run.</summary>
    public static ulong StableHash(string text) => StableHash(Encoding.UTF8.GetBytes(text));

    /// <summary>FNV-1a over <paramref name="bytes"/>, finished with a SplitMix64 round.</summary>
    public static ulong StableHash(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return SplitMix64.Mix(hash);
    }
}
