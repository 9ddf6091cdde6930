using CsCheck;
using Shortener.Core.Crdt;

namespace Shortener.Core.Tests.Crdt;

public class GCounterTests
{
    private static readonly Gen<GCounter> Counters =
        Gen.Select(Gen.ULong[1, 6], Gen.Long[0, 50]).Array[0, 8].Select(entries => GCounter.From(entries));

    [Fact]
    public void Merging_is_commutative_associative_and_idempotent()
    {
        Gen.Select(Counters, Counters, Counters).Sample((a, b, c) =>
        {
            Assert.Equal(a.Merge(b), b.Merge(a));
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            Assert.Equal(a, a.Merge(a));
        });
    }

    [Fact]
    public void A_merge_covers_both_sides_and_is_the_least_counter_that_does()
    {
        Gen.Select(Counters, Counters).Sample((a, b) =>
        {
            var merged = a.Merge(b);
            Assert.True(merged.Covers(a) && merged.Covers(b));
            Assert.True(merged.Value >= Math.Max(a.Value, b.Value));
            Assert.True(merged.Value <= a.Value + b.Value);
            foreach (var (node, count) in merged.Entries)
            {
                Assert.Equal(Math.Max(a[node], b[node]), count);
            }
        });
    }

    /// <summary>Replicas that each saw some increments of each node, in any order and with repeats, merge to the true count once they have exchanged states.</summary>
    [Fact]
    public void States_exchanged_any_number_of_times_count_each_increment_once()
    {
        var ops = Gen.Select(Gen.Int[0, 2], Gen.ULong[1, 4], Gen.Bool, Gen.Int[0, 2]).Array[1, 40];
        ops.Sample(steps =>
        {
            var replicas = new[] { GCounter.Empty, GCounter.Empty, GCounter.Empty };
            var truth = new Dictionary<ulong, long>();
            foreach (var (at, node, increment, other) in steps)
            {
                if (increment)
                {
                    // Only a node's own replica raises its entry (here: replica (node mod 3)).
                    var owner = (int)(node % 3);
                    replicas[owner] = replicas[owner].Increment(node);
                    truth[node] = truth.GetValueOrDefault(node) + 1;
                }
                else
                {
                    replicas[at] = replicas[at].Merge(replicas[other]);
                }
            }

            var all = replicas.Aggregate((x, y) => x.Merge(y));
            Assert.Equal(truth.Values.Sum(), all.Value);
            Assert.Equal(all, all.Merge(replicas[0]).Merge(replicas[1]).Merge(replicas[2]));
        });
    }

    [Fact]
    public void Entries_are_kept_sorted_without_zeros_and_negative_counts_are_refused()
    {
        var counter = GCounter.From([(5, 2), (1, 0), (3, 4), (5, 1)]);
        Assert.Equal([(3UL, 4L), (5UL, 2L)], counter.Entries);
        Assert.Equal(6, counter.Value);
        Assert.Equal(0, counter[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => GCounter.From([(1, -1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.Increment(1, -2));
        Assert.Same(counter, counter.Increment(1, 0));
    }
}
