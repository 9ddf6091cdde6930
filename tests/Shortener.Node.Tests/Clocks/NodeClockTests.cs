using Microsoft.Extensions.Time.Testing;
using Shortener.Core.Clocks;
using Shortener.Node.Clocks;

namespace Shortener.Node.Tests.Clocks;

public sealed class NodeClockTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch.AddYears(56);

    [Fact]
    public void A_receive_moves_the_clock_past_the_senders_stamp_even_when_the_receivers_wall_clock_is_behind()
    {
        var (sender, receiver) = (new NodeClock(new FakeTimeProvider(Start)), new NodeClock(new FakeTimeProvider(Start.AddMilliseconds(-200))));

        var sent = sender.Now();
        Assert.True(receiver.Now() < sent, "the receiver's own reading is behind before it hears from the sender");
        Assert.True(receiver.Observe(sent.Pack(), from: 1));
        var after = receiver.Now();

        Assert.True(after > sent);
        Assert.Equal(sent.WallMs, after.WallMs);
    }

    [Fact]
    public void A_stamp_too_far_ahead_is_not_followed_and_an_unstamped_message_changes_nothing()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new NodeClock(time);
        var before = clock.Now();

        var runaway = new HlcTimestamp(before.WallMs + NodeClock.MaxOffsetMs + 1, 0);
        Assert.False(clock.Observe(runaway.Pack(), from: 2));
        Assert.Equal(before, clock.Last);

        Assert.True(clock.Observe(0, from: 2));
        Assert.Equal(before, clock.Last);

        // Within the offset it is followed.
        Assert.True(clock.Observe(new HlcTimestamp(before.WallMs + NodeClock.MaxOffsetMs, 3).Pack(), from: 2));
        Assert.Equal(new HlcTimestamp(before.WallMs + NodeClock.MaxOffsetMs, 4), clock.Last);
    }
}
