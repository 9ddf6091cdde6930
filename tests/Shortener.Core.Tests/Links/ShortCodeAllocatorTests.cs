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
