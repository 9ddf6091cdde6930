using CsCheck;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clocks;

/// <summary>
/// Random executions of a few processes (local events, sends, receives of messages in flight, in
/// any order) stamped by Lamport and hybrid logical clocks. Vector clocks give the happened-before
/// relation itself; the property is that the scalar clocks respect it.
/// </summary>
public class ClockPropertyTests
{
    private const int Processes = 4;
    private const long MaxOffsetMs = 50;

    // Steps: (kind 0 local / 1 send / 2 receive, process, pick, physical clock advance, skew).
    // Either time moves in big steps with wide skews, or barely at all, so that many events share
    // a millisecond and the logical counters decide.
    private static readonly Gen<(int Kind, int Process, int Pick, int Advance, int Skew)[]> Executions = Gen.OneOf(
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, Processes - 1], Gen.Int[0, 1000], Gen.Int[0, 20], Gen.Int[-20, 20]).Array[1, 120],
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, Processes - 1], Gen.Int[0, 1000], Gen.Int[0, 1], Gen.Int[0, 1]).Array[1, 120]);

    private sealed record Event(int Process, VersionVector Causes, ulong Lamport, HlcTimestamp Hlc, long Physical);

    private static List<Event> Run((int Kind, int Process, int Pick, int Advance, int Skew)[] steps)
    {
        var lamport = Enumerable.Range(0, Processes).Select(_ => new LamportClock()).ToArray();
        var hlc = Enumerable.Range(0, Processes).Select(_ => new HybridLogicalClock(MaxOffsetMs)).ToArray();
        var vectors = Enumerable.Range(0, Processes).Select(_ => VersionVector.Empty).ToArray();
        // Each process's physical clock: true time plus its own skew within +-20 ms (so any two
        // differ by at most 40 < the maximum offset), never going backwards.
        var physical = new long[Processes];
        var trueTime = 1_000L;
        var inFlight = new List<(int To, VersionVector Vector, ulong Lamport, HlcTimestamp Hlc)>();
        var events = new List<Event>();
        foreach (var (kind, p, pick, advance, skew) in steps)
        {
            trueTime += advance;
            physical[p] = Math.Max(physical[p], trueTime + skew);
            vectors[p] = vectors[p].Increment((ulong)p);
            if (kind == 2 && inFlight.Count > 0)
            {
                var message = inFlight[pick % inFlight.Count];
                inFlight.Remove(message);
                var to = message.To;
                physical[to] = Math.Max(physical[to], trueTime + skew);
                vectors[to] = vectors[to].Increment((ulong)to).Merge(message.Vector);
                events.Add(new Event(to, vectors[to], lamport[to].Observe(message.Lamport), hlc[to].Observe(message.Hlc, physical[to]), physical[to]));
                continue;
            }

            var stamp = new Event(p, vectors[p], lamport[p].Tick(), hlc[p].Now(physical[p]), physical[p]);
            events.Add(stamp);
            if (kind == 1)
            {
                inFlight.Add(((p + 1 + (pick % (Processes - 1))) % Processes, stamp.Causes, stamp.Lamport, stamp.Hlc));
            }
        }

        return events;
    }

    [Fact]
    public void If_a_happened_before_b_both_clocks_stamp_a_lower()
    {
        Executions.Sample(steps =>
        {
            var events = Run(steps);
            foreach (var a in events)
            {
                foreach (var b in events)
                {
                    if (a.Causes.Compare(b.Causes) == Causality.Before)
                    {
                        Assert.True(a.Lamport < b.Lamport, $"Lamport {a.Lamport} !< {b.Lamport}");
                        Assert.True(a.Hlc < b.Hlc, $"HLC {a.Hlc} !< {b.Hlc}");
                    }
                }
            }
        });
    }

    [Fact]
    public void A_hybrid_logical_clock_stays_within_the_maximum_offset_of_physical_time()
    {
        Executions.Sample(steps =>
        {
            foreach (var e in Run(steps))
            {
                Assert.True(e.Hlc.WallMs >= e.Physical, $"{e.Hlc} behind its physical clock {e.Physical}");
                Assert.True(e.Hlc.WallMs - e.Physical <= MaxOffsetMs, $"{e.Hlc} is {e.Hlc.WallMs - e.Physical} ms ahead of {e.Physical}");
            }
        });
    }

    [Fact]
    public void A_stamp_too_far_ahead_is_refused_and_leaves_the_clock_as_it_was()
    {
        var clock = new HybridLogicalClock(maxOffsetMs: 500);
        var before = clock.Now(10_000);
        var error = Assert.Throws<ClockOffsetException>(() => clock.Observe(new HlcTimestamp(10_501, 0), 10_000));
        Assert.Equal(501, error.AheadMs);
        Assert.Equal(before, clock.Last);
        Assert.Equal(new HlcTimestamp(10_500, 1), clock.Observe(new HlcTimestamp(10_500, 0), 10_000));
    }

    [Fact]
    public void Readings_within_one_millisecond_count_up_and_never_repeat()
    {
        var clock = new HybridLogicalClock(maxOffsetMs: 500);
        Assert.Equal(new HlcTimestamp(5, 0), clock.Now(5));
        Assert.Equal(new HlcTimestamp(5, 1), clock.Now(5));
        Assert.Equal(new HlcTimestamp(5, 2), clock.Now(3)); // the physical clock stepped back
        Assert.Equal(new HlcTimestamp(6, 0), clock.Now(6));
        var full = new HybridLogicalClock(500, new HlcTimestamp(7, HlcTimestamp.MaxLogical));
        Assert.Equal(new HlcTimestamp(8, 0), full.Now(7));
    }

    [Fact]
    public void Packed_timestamps_round_trip_and_keep_their_order()
    {
        Gen.Select(Gen.Long[0, (1L << 48) - 1], Gen.Int[0, HlcTimestamp.MaxLogical]).Array[2].Sample(pair =>
        {
            var a = new HlcTimestamp(pair[0].Item1, pair[0].Item2);
            var b = new HlcTimestamp(pair[1].Item1, pair[1].Item2);
            Assert.Equal(a, HlcTimestamp.Unpack(a.Pack()));
            Assert.Equal(Math.Sign(a.CompareTo(b)), Math.Sign(a.Pack().CompareTo(b.Pack())));
        });
        Assert.Throws<InvalidOperationException>(() => new HlcTimestamp(1L << 48, 0).Pack());
    }

    [Fact]
    public void Lamport_receives_move_past_the_sender()
    {
        var clock = new LamportClock();
        Assert.Equal(1UL, clock.Tick());
        Assert.Equal(11UL, clock.Observe(10));
        Assert.Equal(12UL, clock.Observe(3));
    }
}
