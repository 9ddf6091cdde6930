using Shortener.Core.Changes;
using Shortener.Core.Links;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests.Links;

public class ChangeTailTests
{
    private static BatchItemResult Changed(ulong index, int position = 0) =>
        new(new CommandResult(CommandOutcome.Created), null, Change: new LinkChange(new ChangeOffset(1, index, position), 1, ChangeOperation.Create, null, null, 0, default));

    private static BatchItemResult Unchanged => new(new CommandResult(CommandOutcome.Ok), null);

    [Fact]
    public void It_covers_only_what_was_applied_after_it_began_and_serves_changes_after_a_position_in_order()
    {
        var tail = new ChangeTail(1, appliedIndex: 10);
        tail.Append([Changed(11), Unchanged, Changed(12, 0), Changed(12, 1)]);

        Assert.False(tail.TryRead(null, 10, out _));
        Assert.False(tail.TryRead(new ChangeOffset(1, 9, 0), 10, out _));
        Assert.False(tail.TryRead(new ChangeOffset(1, 10, 3), 10, out _));
        Assert.True(tail.TryRead(tail.CoveredAfter, 10, out var all));
        Assert.Equal([11UL, 12, 12], all.Select(c => c.Offset.Index));
        Assert.True(tail.TryRead(new ChangeOffset(1, 12, 0), 10, out var rest));
        Assert.Equal(new ChangeOffset(1, 12, 1), Assert.Single(rest).Offset);
        Assert.True(tail.TryRead(new ChangeOffset(1, 11, 0), 1, out var one));
        Assert.Equal(new ChangeOffset(1, 12, 0), Assert.Single(one).Offset);
        Assert.True(tail.TryRead(new ChangeOffset(1, 12, 1), 10, out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void A_full_tail_pushes_out_its_oldest_and_stops_covering_positions_before_them()
    {
        var tail = new ChangeTail(1, appliedIndex: 0, capacity: 3);
        tail.Append([Changed(1), Changed(2), Changed(3), Changed(4)]);

        Assert.Equal(new ChangeOffset(1, 1, 0), tail.CoveredAfter);
        Assert.False(tail.TryRead(new ChangeOffset(1, 0, 5), 10, out _));
        Assert.True(tail.TryRead(new ChangeOffset(1, 1, 0), 10, out var kept));
        Assert.Equal([2UL, 3, 4], kept.Select(c => c.Offset.Index));
    }

    [Fact]
    public async Task Readers_are_woken_by_the_next_change_and_by_a_snapshot_that_resets_it()
    {
        var tail = new ChangeTail(1, appliedIndex: 0);
        var waiting = tail.WhenChangedAsync();
        tail.Append([Unchanged]);
        Assert.False(waiting.IsCompleted);
        tail.Append([Changed(1)]);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        var next = tail.WhenChangedAsync();
        Assert.False(next.IsCompleted);
        tail.Reset(appliedIndex: 50);
        await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(tail.TryRead(new ChangeOffset(1, 1, 0), 10, out _));
        Assert.True(tail.TryRead(new ChangeOffset(1, 50, int.MaxValue), 10, out var empty));
        Assert.Empty(empty);
    }
}
