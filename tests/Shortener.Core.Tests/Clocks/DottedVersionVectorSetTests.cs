using CsCheck;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clocks;

public class DottedVersionVectorSetTests
{
    private static readonly DottedVersionVectorSet<string> Empty = DottedVersionVectorSet<string>.Empty;

    [Fact]
    public void A_write_that_saw_the_current_value_replaces_it()
    {
        var v1 = Empty.Put(VersionVector.Empty, node: 1, "a");
        var v2 = v1.Put(v1.Context, node: 1, "b");
        Assert.Equal(["b"], v2.Values);
        Assert.Equal(new Dot(1, 2), v2.Siblings.Single().Dot);
    }

    [Fact]
    public void Writes_that_did_not_see_each_other_are_kept_as_siblings_until_one_resolves_them()
    {
        var base1 = Empty.Put(VersionVector.Empty, 1, "a");
        var context = base1.Context;
        // Two clients read "a", then both write through the same coordinator.
        var both = base1.Put(context, 1, "b").Put(context, 1, "c");
        Assert.Equal(["b", "c"], both.Values);

        var resolved = both.Resolve(1, values => string.Join("+", values));
        Assert.Equal(["b+c"], resolved.Values);

        // A replica that still holds both siblings drops them when the resolution arrives.
        Assert.Equal(["b+c"], both.Merge(resolved).Values);
        Assert.Equal(["b+c"], resolved.Merge(both).Values);
    }

    [Fact]
    public void Concurrent_writes_on_two_replicas_merge_into_siblings_and_a_later_write_replaces_both()
    {
        var r1 = Empty.Put(VersionVector.Empty, 1, "x");
        var r2 = Empty.Put(VersionVector.Empty, 2, "y");
        var merged = r1.Merge(r2);
        Assert.Equal(["x", "y"], merged.Values);
        var next = merged.Put(merged.Context, 2, "z");
        Assert.Equal(["z"], next.Values);
        Assert.Equal(["z"], r1.Merge(next).Values);
    }

    [Fact]
    public void A_write_through_one_replica_replaces_what_its_client_read_from_another()
    {
        // v1 lives only on replica B; a client reads it there and writes v2 through A.
        var b = Empty.Put(VersionVector.Empty, 2, "v1");
        var a = Empty.Put(b.Context, 1, "v2");
        Assert.Equal(["v2"], a.Merge(b).Values);
        Assert.Equal(["v2"], b.Merge(a).Values);
    }

    /// <summary>Random writes at three replicas (each the coordinator for its own dots) with random syncs between them.</summary>
    [Fact]
    public void Merging_is_commutative_associative_and_idempotent_and_loses_no_concurrent_write()
    {
        var ops = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.Bool, Gen.Bool).Array[1, 30];
        ops.Sample(steps =>
        {
            var replicas = new[] { Empty, Empty, Empty };
            var value = 0;
            foreach (var (at, other, write, seen) in steps)
            {
                if (write)
                {
                    replicas[at] = replicas[at].Put(seen ? replicas[at].Context : VersionVector.Empty, (ulong)at + 1, $"v{value++}");
                }
                else
                {
                    replicas[at] = replicas[at].Merge(replicas[other]);
                }
            }

            var (a, b, c) = (replicas[0], replicas[1], replicas[2]);
            AssertSame(a.Merge(b), b.Merge(a));
            AssertSame(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            AssertSame(a, a.Merge(a));

            // Every sibling anywhere that no replica's context has superseded survives the full merge.
            var all = a.Merge(b).Merge(c);
            foreach (var replica in replicas)
            {
                foreach (var (dot, v) in replica.Siblings)
                {
                    var superseded = replicas.Any(r => r.Context.Covers(dot) && r.Siblings.All(s => s.Dot != dot));
                    Assert.Equal(!superseded, all.Siblings.Contains((dot, v)));
                }
            }
        });
    }

    private static void AssertSame(DottedVersionVectorSet<string> x, DottedVersionVectorSet<string> y)
    {
        Assert.Equal(x.Context, y.Context);
        Assert.Equal(x.Siblings, y.Siblings);
    }
}
