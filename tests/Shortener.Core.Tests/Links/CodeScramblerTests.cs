using CsCheck;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class CodeScramblerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Is_a_permutation_of_the_whole_code_space(int length)
    {
        var scrambler = new CodeScrambler(key: 42, length);
        var seen = new bool[scrambler.Domain];
        for (ulong i = 0; i < scrambler.Domain; i++)
        {
            var s = scrambler.Scramble(i);
            Assert.True(s < scrambler.Domain);
            Assert.False(seen[s], $"{i} maps to {s}, already taken");
            seen[s] = true;
            Assert.Equal(i, scrambler.Unscramble(s));
        }
    }

    [Fact]
    public void Unscramble_inverts_scramble_on_seven_character_codes() =>
        Gen.ULong.Select(Gen.ULong[0, Base62.Capacity(7) - 1]).Sample((key, value) =>
        {
            var scrambler = new CodeScrambler(key, 7);
            Assert.Equal(value, scrambler.Unscramble(scrambler.Scramble(value)));
        });

    [Fact]
    public void Consecutive_numbers_give_codes_that_do_not_look_sequential()
    {
        var scrambler = new CodeScrambler(key: 7, length: 7);
        var codes = Enumerable.Range(0, 1000).Select(i => scrambler.ToCode((ulong)i)).ToList();
        Assert.All(codes, c => Assert.Equal(7, c.Length));

        // Neighbours share a common prefix only by chance (about 1 in 62 for the first character).
        var sharedFirst = codes.Zip(codes.Skip(1)).Count(p => p.First[0] == p.Second[0]);
        Assert.InRange(sharedFirst, 0, 60);

        // And the codes are not sorted like the numbers.
        var ascending = codes.Zip(codes.Skip(1)).Count(p => string.CompareOrdinal(p.First, p.Second) < 0);
        Assert.InRange(ascending, 350, 650);
    }

    [Fact]
    public void Different_keys_give_different_codes()
    {
        var a = new CodeScrambler(1, 7);
        var b = new CodeScrambler(2, 7);
        var same = Enumerable.Range(0, 1000).Count(i => a.ToCode((ulong)i) == b.ToCode((ulong)i));
        Assert.True(same < 5, $"{same} of 1000 codes equal under two keys");
    }
}
