using CsCheck;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clocks;

public class VersionVectorTests
{
    private static readonly Gen<VersionVector> Vectors =
        Gen.Select(Gen.ULong[1, 5], Gen.ULong[0, 6]).Array[0, 6].Select(entries => VersionVector.From(entries));

    [Fact]
    public void Merge_is_commutative_associative_and_idempotent_and_descends_both()
    {
        Gen.Select(Vectors, Vectors, Vectors).Sample((a, b, c) =>
        {
            Assert.Equal(a.Merge(b), b.Merge(a));
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            Assert.Equal(a, a.Merge(a));
            Assert.True(a.Merge(b).Descends(a) && a.Merge(b).Descends(b));
        });
    }

    [Fact]
    public void Compare_agrees_with_descends_both_ways()
    {
        Gen.Select(Vectors, Vectors).Sample((a, b) =>
        {
            var expected = (a.Descends(b), b.Descends(a)) switch
            {
                (true, true) => Causality.Equal,
                (true, false) => Causality.After,
                (false, true) => Causality.Before,
                _ => Causality.Concurrent,
            };
            Assert.Equal(expected, a.Compare(b));
            Assert.Equal(a.Equals(b), a.Compare(b) == Causality.Equal);
        });
    }

    [Fact]
    public void Increments_order_events_and_independent_ones_are_concurrent()
    {
        var a = VersionVector.Empty.Increment(1);
        var b = a.Increment(2);
        Assert.Equal(Causality.Before, a.Compare(b));
        Assert.Equal(Causality.Concurrent, a.Increment(1).Compare(b));
        Assert.True(b.Covers(new Dot(2, 1)));
        Assert.False(b.Covers(new Dot(2, 2)));
        Assert.Equal("{1:1,2:1}", b.ToString());
    }
}
