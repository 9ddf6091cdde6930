using CsCheck;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class Base62Tests
{
    [Theory]
    [InlineData(0UL, 7, "0000000")]
    [InlineData(61UL, 1, "z")]
    [InlineData(62UL, 2, "10")]
    [InlineData(3521614606207UL, 7, "zzzzzzz")]
    public void Encodes_fixed_length(ulong value, int length, string expected) => Assert.Equal(expected, Base62.Encode(value, length));

    [Fact]
    public void Refuses_values_that_do_not_fit() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Base62.Encode(Base62.Capacity(7), 7));

    [Theory]
    [InlineData("")]
    [InlineData("ab-c")]
    [InlineData("abc def")]
    [InlineData("zzzzzzzzzzz")]
    public void Refuses_text_that_is_not_a_code(string text) => Assert.False(Base62.TryDecode(text, out _));

    [Fact]
    public void Round_trips_and_keeps_order() =>
        Gen.ULong[0, Base62.Capacity(7) - 1].Select(Gen.ULong[0, Base62.Capacity(7) - 1]).Sample((a, b) =>
        {
            var ea = Base62.Encode(a, 7);
            var eb = Base62.Encode(b, 7);
            Assert.True(Base62.TryDecode(ea, out var da));
            Assert.Equal(a, da);
            Assert.Equal(Math.Sign(a.CompareTo(b)), Math.Sign(string.CompareOrdinal(ea, eb)));
        });
}
