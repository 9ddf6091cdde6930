using Microsoft.Extensions.Time.Testing;
using Shortener.Core.Changes;
using Shortener.Node.Sinks;

namespace Shortener.Node.Tests.Sinks;

/// <summary>The group commit in front of a sink: who goes in which call, and what each write is told.</summary>
public sealed class CoalescedWritesTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<(IReadOnlyList<ShardBatch> Writes, TaskCompletionSource<IReadOnlyList<SinkWrite>> Answer)> _calls = [];

    private CoalescedWrites Writes(TimeSpan interval) => new(
        writes =>
        {
            var answer = new TaskCompletionSource<IReadOnlyList<SinkWrite>>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_calls)
            {
                _calls.Add((writes, answer));
            }

            return answer.Task;
        },
        interval,
        _time);

    private static ShardBatch Write(int shard, ulong token = 7) => new(shard, token, []);

    private async Task<int> CallsAsync(int atLeast)
    {
        for (var i = 0; i < 500; i++)
        {
            lock (_calls)
            {
                if (_calls.Count >= atLeast)
                {
                    return _calls.Count;
                }
            }

            await Task.Delay(10);
        }

        lock (_calls)
        {
            return _calls.Count;
        }
    }

    private static IReadOnlyList<SinkWrite> Delivered(params int[] added) => [.. added.Select(a => new SinkWrite(SinkWriteOutcome.Delivered, a, 7))];

    [Fact]
    public async Task An_idle_write_goes_at_once_and_writes_asked_for_meanwhile_go_together_after_the_interval()
    {
        var writes = Writes(TimeSpan.FromMilliseconds(10));
        var first = writes.WriteAsync(Write(1), default);
        Assert.Equal(1, await CallsAsync(1));

        var second = writes.WriteAsync(Write(2), default);
        var third = writes.WriteAsync(Write(3, token: 9), default);
        _calls[0].Answer.SetResult(Delivered(4));
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 4, 7), await first);

        // The next call waits out the interval since the first began, then carries both, in the order asked.
        await Task.Delay(100);
        Assert.Equal(1, await CallsAsync(1));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(2, await CallsAsync(2));
        Assert.Equal([2, 3], _calls[1].Writes.Select(w => w.Shard));
        Assert.Equal(9UL, _calls[1].Writes[1].Token);
        _calls[1].Answer.SetResult([new SinkWrite(SinkWriteOutcome.Delivered, 1, 7), new SinkWrite(SinkWriteOutcome.Fenced, 0, 12)]);
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Delivered, 1, 7), await second);
        Assert.Equal(new SinkWrite(SinkWriteOutcome.Fenced, 0, 12), await third);
        Assert.Equal((2L, 3L), writes.Counts);
    }

    [Fact]
    public async Task A_waiting_batch_takes_the_events_that_arrived_meanwhile_when_it_goes_up_to_its_limit()
    {
        static LinkChange Change(ulong index) =>
            new(new ChangeOffset(1, index, 0), 1, ChangeOperation.Create, null, new Core.Links.Link("c" + index, "https://example.com/", 0, 0, null, null, 0, 302, [], null, false), 0, default);
        var arrived = new List<LinkChange> { Change(3), Change(4), Change(5), Change(6) };
        IReadOnlyList<LinkChange> Later(ChangeOffset after, int limit) => [.. arrived.Where(c => c.Offset.CompareTo(after) > 0).Take(limit)];

        var writes = Writes(TimeSpan.Zero);
        var first = writes.WriteAsync(Write(2), default);
        await CallsAsync(1);
        var batch = new ShardBatch(1, 7, [Change(1), Change(2)], Later, limit: 5);
        var waiting = writes.WriteAsync(batch, default);
        _calls[0].Answer.SetResult(Delivered(0));
        await first;

        Assert.Equal(2, await CallsAsync(2));
        Assert.Equal([1UL, 2, 3, 4, 5], _calls[1].Writes.Single().Changes.Select(c => c.Offset.Index));
        _calls[1].Answer.SetResult(Delivered(5));
        Assert.Equal(5, (await waiting).Added);
        Assert.Equal([1UL, 2, 3, 4, 5], batch.Changes.Select(c => c.Offset.Index));
    }

    [Fact]
    public async Task A_failed_call_fails_every_write_in_it_and_the_next_write_starts_a_new_call()
    {
        var writes = Writes(TimeSpan.Zero);
        var first = writes.WriteAsync(Write(1), default);
        await CallsAsync(1);
        var second = writes.WriteAsync(Write(2), default);
        var third = writes.WriteAsync(Write(3), default);
        _calls[0].Answer.SetException(new IOException("connection reset"));
        await Assert.ThrowsAsync<IOException>(() => first);

        Assert.Equal(2, await CallsAsync(2));
        _calls[1].Answer.SetException(new IOException("still down"));
        Assert.Equal("still down", (await Assert.ThrowsAsync<IOException>(() => second)).Message);
        await Assert.ThrowsAsync<IOException>(() => third);

        var fourth = writes.WriteAsync(Write(1), default);
        Assert.Equal(3, await CallsAsync(3));
        _calls[2].Answer.SetResult(Delivered(2));
        Assert.Equal(2, (await fourth).Added);
    }

    [Fact]
    public async Task A_caller_that_stops_waiting_is_released_and_its_write_is_still_sent()
    {
        var writes = Writes(TimeSpan.Zero);
        var first = writes.WriteAsync(Write(1), default);
        await CallsAsync(1);
        using var stop = new CancellationTokenSource();
        var second = writes.WriteAsync(Write(2), stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        _calls[0].Answer.SetResult(Delivered(1));
        await first;
        Assert.Equal(2, await CallsAsync(2));
        Assert.Equal(2, _calls[1].Writes.Single().Shard);
        _calls[1].Answer.SetResult(Delivered(1));
    }
}
