using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Storage.Clicks;

namespace Shortener.Storage.Tests.Clicks;

public sealed class HintedHandoffQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ClickEvent Click(string code) => new(Guid.NewGuid(), code, 1_000, new HlcTimestamp(1_000, 0), ClickKind.Human, null, null);

    [Fact]
    public void Hints_survive_a_restart_and_are_dropped_once_the_owner_has_them()
    {
        var forTwo = new[] { Click("a"), Click("b"), Click("c") };
        using (var queue = HintedHandoffQueue.Open(_dir.Path))
        {
            queue.Add(2, forTwo, nowMs: 10_000);
            queue.Add(3, [Click("d")], nowMs: 10_000);
            Assert.Equal([2UL, 3], queue.Owners);
            Assert.Equal(4, queue.Count);
        }

        using var reopened = HintedHandoffQueue.Open(_dir.Path);
        var pending = reopened.Pending(2, 10);
        Assert.Equal(forTwo, pending.Select(p => p.Click));
        reopened.Delivered(2, pending[1].Position);
        Assert.Equal([forTwo[2]], reopened.Pending(2, 10).Select(p => p.Click));
        reopened.Delivered(2, pending[2].Position);
        Assert.Equal([3UL], reopened.Owners);
        Assert.Empty(reopened.Pending(9, 10));
    }

    [Fact]
    public void Hints_older_than_the_window_expire_and_newer_ones_stay()
    {
        using var queue = HintedHandoffQueue.Open(_dir.Path);
        queue.Add(2, [Click("old1"), Click("old2")], nowMs: 1_000);
        var fresh = Click("fresh");
        queue.Add(2, [fresh], nowMs: 50_000);
        queue.Add(3, [Click("old3")], nowMs: 2_000);

        Assert.Equal(3, queue.Expire(nowMs: 60_000, windowMs: 30_000));
        Assert.Equal([fresh], queue.Pending(2, 10).Select(p => p.Click));
        Assert.Empty(queue.Pending(3, 10));
        Assert.Equal(0, queue.Expire(nowMs: 60_000, windowMs: 30_000));
    }

    [Fact]
    public void A_batch_with_a_click_that_cannot_be_encoded_keeps_none_of_it()
    {
        using var queue = HintedHandoffQueue.Open(_dir.Path);
        var bad = Click("x") with { Hlc = new HlcTimestamp(1, 70_000) };
        Assert.Throws<ArgumentException>(() => queue.Add(2, [Click("a"), bad], nowMs: 1_000));
        queue.Add(2, [Click("b")], nowMs: 1_000);
        Assert.Equal(["b"], queue.Pending(2, 10).Select(p => p.Click.Code));
    }

    [Fact]
    public void Stamps_never_go_back_so_a_clock_step_cannot_hide_old_hints_from_expiry()
    {
        using var queue = HintedHandoffQueue.Open(_dir.Path);
        queue.Add(2, [Click("a")], nowMs: 50_000);
        queue.Add(2, [Click("b")], nowMs: 1_000); // the clock stepped back: stamped 50,000 too
        Assert.Equal(0, queue.Expire(nowMs: 60_000, windowMs: 30_000));
        Assert.Equal(2, queue.Expire(nowMs: 90_000, windowMs: 30_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Expire(90_000, -1));
    }
}
