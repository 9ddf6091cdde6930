using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class ShortCodeAllocatorTests
{
    [Fact]
    public void Empty_allocator_asks_for_a_lease()
    {
        var allocator = new ShortCodeAllocator(new CodeScrambler(1, 7));
        Assert.False(allocator.TryNext(out _));
        Assert.Equal(0UL, allocator.Remaining);
    }

    [Fact]
    public void Uses_blocks_in_order_and_exactly()
    {
        var scrambler = new CodeScrambler(1, 7);
        var allocator = new ShortCodeAllocator(scrambler);
        allocator.AddBlock(new CodeBlock(10, 3));
        allocator.AddBlock(new CodeBlock(100, 2));
        Assert.Equal(5UL, allocator.Remaining);

        var codes = new List<string>();
        while (allocator.TryNext(out var code))
        {
            codes.Add(code);
        }

        var numbers = codes.Select(c => Base62.TryDecode(c, out var v) ? scrambler.Unscramble(v) : ulong.MaxValue).ToList();
        Assert.Equal([10UL, 11, 12, 100, 101], numbers);
    }

    [Fact]
    public void Refuses_a_block_beyond_the_code_space()
    {
        var allocator = new ShortCodeAllocator(new CodeScrambler(1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.AddBlock(new CodeBlock(3800, 100)));
    }

    [Fact]
    public void Leases_from_the_state_machine_never_overlap()
    {
        var table = new InMemoryLinkTable();
        var blocks = Enumerable.Range(0, 100)
            .Select(i => LinkStateMachine.Apply(table, new LeaseCodeBlock(i, (ulong)(1 + (i % 7)))).Block!.Value)
            .ToList();
        for (var i = 1; i < blocks.Count; i++)
        {
            Assert.Equal(blocks[i - 1].End, blocks[i].Start);
        }
    }
}

public class ShortCodeAllocatorReservedWordTests
{
    [Fact]
    public void Codes_that_spell_a_reserved_path_are_skipped()
    {
        // With 3-character codes the whole space is small enough to draw completely: "api" is in it.
        var scrambler = new CodeScrambler(9, 3);
        var allocator = new ShortCodeAllocator(scrambler);
        allocator.AddBlock(new CodeBlock(0, scrambler.Domain));
        var codes = new HashSet<string>(StringComparer.Ordinal);
        while (allocator.TryNext(out var code))
        {
            Assert.True(codes.Add(code));
        }

        // Routes match case-insensitively, so every casing of a reserved word is skipped: "api", "API", "aPi", ...
        Assert.DoesNotContain("api", codes);
        Assert.DoesNotContain("API", codes);
        Assert.DoesNotContain(codes, AliasRules.Reserved.Contains);
        var skipped = AliasRules.Reserved.Where(w => w.Length == 3).Sum(w => 1 << w.Count(char.IsAsciiLetter));
        Assert.Equal((int)scrambler.Domain - skipped, codes.Count);
    }
}
