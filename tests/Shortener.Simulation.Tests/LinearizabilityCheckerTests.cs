using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Tests;

public class LinearizabilityCheckerTests
{
    private static RegisterOperation W(int p, string v, long call, long ret, OperationStatus status = OperationStatus.Ok, string key = "x") =>
        new(p, key, RegisterOperationKind.Write, v, null, null, call, status == OperationStatus.Unknown ? long.MaxValue : ret, status);

    private static RegisterOperation R(int p, string? v, long call, long ret, string key = "x") =>
        new(p, key, RegisterOperationKind.Read, null, null, v, call, ret, OperationStatus.Ok);

    private static RegisterOperation Cas(int p, string? expected, string v, string? output, long call, long ret) =>
        new(p, "x", RegisterOperationKind.CompareAndSet, v, expected, output, call, output is null ? long.MaxValue : ret, output is null ? OperationStatus.Unknown : OperationStatus.Ok);

    [Fact]
    public void Sequential_reads_of_the_last_write_are_linearizable() =>
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), R(2, "a", 20, 30), W(1, "b", 40, 50), R(2, "b", 60, 70)]).Linearizable);

    [Fact]
    public void A_read_of_an_overwritten_value_after_the_overwrite_returned_is_not()
    {
        var result = LinearizabilityChecker.Check([W(1, "a", 0, 10), W(1, "b", 20, 30), R(2, "a", 40, 50)]);
        Assert.False(result.Linearizable);
        Assert.Equal("x", result.Key);
        Assert.Contains("not linearizable", result.Describe());
    }

    [Fact]
    public void Concurrent_operations_may_take_effect_in_either_order()
    {
        // The read overlaps both writes, so it may see either value.
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 100), W(2, "b", 10, 90), R(3, "a", 20, 95)]).Linearizable);
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 100), W(2, "b", 10, 90), R(3, "b", 20, 95)]).Linearizable);
    }

    [Fact]
    public void Two_reads_cannot_see_two_concurrent_writes_in_opposite_orders()
    {
        var history = new[]
        {
            W(1, "a", 0, 100), W(2, "b", 0, 100),
            R(3, "a", 10, 20), R(3, "b", 30, 40),
            R(4, "b", 10, 20), R(4, "a", 30, 40),
        };
        Assert.False(LinearizabilityChecker.Check(history).Linearizable);
    }

    [Fact]
    public void A_write_of_unknown_outcome_may_have_happened_or_not()
    {
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), W(2, "b", 20, 0, OperationStatus.Unknown), R(3, "b", 100, 110)]).Linearizable);
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), W(2, "b", 20, 0, OperationStatus.Unknown), R(3, "a", 100, 110)]).Linearizable);

        // But not before it was invoked.
        Assert.False(LinearizabilityChecker.Check([W(1, "a", 0, 10), R(3, "b", 11, 15), W(2, "b", 20, 0, OperationStatus.Unknown)]).Linearizable);
    }

    [Fact]
    public void Failed_operations_never_happened()
    {
        var failed = new RegisterOperation(2, "x", RegisterOperationKind.Write, "b", null, null, 20, 30, OperationStatus.Fail);
        Assert.False(LinearizabilityChecker.Check([W(1, "a", 0, 10), failed, R(3, "b", 40, 50)]).Linearizable);
    }

    [Fact]
    public void Compare_and_set_follows_the_register()
    {
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), Cas(2, "a", "b", "ok", 20, 30), R(3, "b", 40, 50)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W(1, "a", 0, 10), Cas(2, "z", "b", "ok", 20, 30)]).Linearizable);
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), Cas(2, "z", "b", "fail", 20, 30), R(3, "a", 40, 50)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W(1, "a", 0, 10), Cas(2, "a", "b", "fail", 20, 30)]).Linearizable);

        // A compare-and-set of unknown outcome explains a later read of its value.
        Assert.True(LinearizabilityChecker.Check([W(1, "a", 0, 10), Cas(2, "a", "b", null, 20, 0), R(3, "b", 40, 50)]).Linearizable);
    }

    [Fact]
    public void An_unobserved_unknown_write_is_pruned_without_changing_the_verdict()
    {
        // A failed CAS later than the unknown write could be explained by it: it must stay.
        var history = new[] { W(1, "a", 0, 10), W(2, "hidden", 20, 0, OperationStatus.Unknown), Cas(3, "a", "c", "fail", 30, 40) };
        Assert.True(LinearizabilityChecker.Check(history).Linearizable);
        Assert.False(LinearizabilityChecker.Check(history.Where(o => o.Value != "hidden")).Linearizable);
    }

    [Fact]
    public void Keys_are_checked_independently()
    {
        var history = new[] { W(1, "a", 0, 10, key: "x"), W(1, "a", 0, 10, key: "y"), R(2, "a", 20, 30, key: "x"), R(2, null, 20, 30, key: "z") };
        Assert.True(LinearizabilityChecker.Check(history).Linearizable);
        var bad = LinearizabilityChecker.Check(history.Append(R(3, "stale", 40, 50, key: "y")));
        Assert.False(bad.Linearizable);
        Assert.Equal("y", bad.Key);
    }

    [Fact]
    public void Many_concurrent_unknown_writes_stay_tractable()
    {
        // 40 overlapping writes of unknown outcome, most never read: pruning keeps the search small.
        var history = Enumerable.Range(0, 40).Select(i => W(i, $"v{i}", i, 0, OperationStatus.Unknown)).ToList();
        history.Add(R(99, "v7", 1000, 1010));
        history.Add(R(99, "v7", 1020, 1030));
        var result = LinearizabilityChecker.Check(history);
        Assert.True(result.Linearizable);
        Assert.False(result.Inconclusive);
    }
}

public class LinearizabilityBudgetTests
{
    [Fact]
    public void A_search_that_runs_out_of_budget_is_inconclusive_not_a_pass()
    {
        // 30 concurrent unknown writes, each read once, and a read of a value nobody wrote: no
        // order explains it, but proving that takes more steps than the budget allows.
        var ops = new List<RegisterOperation>();
        for (var i = 0; i < 30; i++)
        {
            ops.Add(new RegisterOperation(i, "k", RegisterOperationKind.Write, $"v{i}", null, null, 0, long.MaxValue, OperationStatus.Unknown));
            ops.Add(new RegisterOperation(100 + i, "k", RegisterOperationKind.Read, null, null, $"v{i}", 1 + (2 * i), 2 + (2 * i), OperationStatus.Ok));
        }

        ops.Add(new RegisterOperation(999, "k", RegisterOperationKind.Read, null, null, "never-written", 100, 101, OperationStatus.Ok));
        var result = LinearizabilityChecker.Check(ops, maxStepsPerKey: 10_000);
        Assert.True(!result.Linearizable || result.Inconclusive, "a budget-limited search reported a clean pass");
    }
}
