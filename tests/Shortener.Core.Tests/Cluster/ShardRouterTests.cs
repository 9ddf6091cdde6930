using CsCheck;
using Shortener.Core.Cluster;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Cluster;

public class ShardRouterTests
{
    [Fact]
    public void A_generated_code_belongs_to_the_shard_that_drew_it()
    {
        var router = new ShardRouter(new CodeScrambler(7, 7), 16);
        for (var shard = 0; shard < 16; shard++)
        {
            var allocator = router.AllocatorFor(shard);
            allocator.AddBlock(new CodeBlock(0, 200));
            while (allocator.TryNext(out var code))
            {
                Assert.Equal(shard, router.ShardOf(code));
            }
        }
    }

    [Fact]
    public void Shards_draw_disjoint_codes_from_their_own_sequences()
    {
        var router = new ShardRouter(new CodeScrambler(7, 5), 4);
        var seen = new HashSet<string>();
        for (var shard = 0; shard < 4; shard++)
        {
            var allocator = router.AllocatorFor(shard);
            allocator.AddBlock(new CodeBlock(0, 500));
            while (allocator.TryNext(out var code))
            {
                Assert.True(seen.Add(code), $"{code} drawn twice");
            }
        }

        Assert.InRange(seen.Count, 1990, 2000);
    }

    [Fact]
    public void Any_string_has_one_shard_and_aliases_spread_over_all()
    {
        var router = new ShardRouter(new CodeScrambler(7, 7), 16);
        Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_"], 1, 64].Sample(s => Assert.Equal(router.ShardOf(s), router.ShardOf(s)));
        var counts = new int[16];
        for (var i = 0; i < 16_000; i++)
        {
            counts[router.ShardOf($"alias-{i}")]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void The_hash_is_the_same_in_every_process()
    {
        // Pinned: a change would move existing links to other shards.
        // (Computed independently: FNV-1a 64 of the UTF-8 bytes, then the SplitMix64 finaliser.)
        Assert.Equal(2790051999814920485UL, ShardRouter.StableHash("my-alias"));
        Assert.Equal(5, new ShardRouter(new CodeScrambler(42, 7), 16).ShardOf("my-alias"));
        Assert.NotEqual(ShardRouter.StableHash("a"), ShardRouter.StableHash("b"));
    }

    [Fact]
    public void A_strided_block_past_the_code_space_is_refused()
    {
        var router = new ShardRouter(new CodeScrambler(1, 2), 4);
        var allocator = router.AllocatorFor(3);

        // 62^2 = 3844 numbers; shard 3 owns 3, 7, …, 3843: k up to 960.
        allocator.AddBlock(new CodeBlock(960, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.AddBlock(new CodeBlock(961, 1)));
        Assert.True(allocator.TryNext(out var code));
        Assert.Equal(3, router.ShardOf(code));
    }
}
