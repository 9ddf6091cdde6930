using CsCheck;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;

namespace Shortener.Core.Tests.Clicks;

public class ClickMessageCodecTests
{
    private static readonly Gen<ClickEvent> Events =
        Gen.Select(Gen.Guid, Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.Long[0, 1L << 46], Gen.Bool, Gen.OneOfConst<string?>(null, "news.example"), Gen.ULong[0, 3])
        .Select((id, code, at, bot, referrer, origin) => new ClickEvent(id, code, at, new HlcTimestamp(at, 0), bot ? ClickKind.Bot : ClickKind.Human, referrer, null) { Origin = origin });

    private static readonly Gen<SealedDayRecord> SealedDays =
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 8], Gen.Int[0, 30_000], Events.Array[0, 6], Events.Array[0, 6])
        .Select((code, day, first, second) => SealedDayRecord.Seal(code, day, SealedDayRecord.Seal(code, day, null, 1, first), 2, second));

    private static readonly Gen<ClickStats?> Stats =
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 10], Gen.Select(Gen.Int, Gen.Long[0, 1000], Gen.Long[0, 1000]).Array[0, 4], Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 10], Gen.Long[0, 100]).Array[0, 3], Gen.Bool)
        .Select((code, days, referrers, none) => none
            ? null
            : new ClickStats(code, days.Sum(d => d.Item2 + d.Item3), days.Sum(d => d.Item2), days.Sum(d => d.Item3), days.Select(d => new ClickDay(d.Item1, d.Item2, d.Item3)).ToList(), referrers.Select(r => new ReferrerCount(r.Item1, r.Item2)).ToList()));

    private static readonly Gen<ClickMessage> Messages =
        Gen.Select(Gen.Enum<ClickMessageType>(), Gen.Select(Gen.ULong, Gen.ULong, Gen.ULong), Gen.Bool, Events.Array[0, 5], Gen.String[Gen.Char.AlphaNumeric, 0, 12], Gen.Int, Gen.Int, SealedDays.Array[0, 3])
        .SelectMany((type, ids, ok, events, code, fromDay, toDay, sealedDays) =>
            Gen.Select(Gen.ULong, Gen.Int.Array[0, 6], Gen.ULong.Array[0, 6], Gen.Select(Gen.ULong, Gen.ULong).Array[0, 4], Stats, Gen.Select(Gen.ULong, Gen.Long, Gen.Long).Array[0, 3], Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 8], Gen.Long[0, 9], Gen.Long[0, 9]).Array[0, 3])
            .Select((number, indexes, hashes, digests, stats, ranges, links) => new ClickMessage(type, ids.Item1, ids.Item2, ids.Item3)
            {
                Ok = ok,
                HintFor = number,
                Events = events,
                Sealed = sealedDays,
                Code = code,
                FromDay = fromDay,
                ToDay = toDay,
                Count = (long)(number >> 1),
                Fingerprint = number * 31,
                Stats = stats,
                RangeFrom = number ^ 5,
                RangeTo = number ^ 9,
                Depth = indexes.Length,
                Level = fromDay ^ 3,
                Indexes = indexes,
                Hashes = hashes,
                Digests = digests,
                RangeTotals = ranges,
                Links = links.Select(l => new ClickTotals(l.Item1, l.Item2, l.Item3)).ToList(),
            }));

    [Fact]
    public void Messages_round_trip_through_their_binary_form()
    {
        Messages.Sample(m =>
        {
            var back = ClickMessageCodec.Decode(ClickMessageCodec.Encode(m));
            Assert.Equal((m.Type, m.From, m.To, m.Op, m.Ok, m.HintFor, m.Code, m.FromDay, m.ToDay), (back.Type, back.From, back.To, back.Op, back.Ok, back.HintFor, back.Code, back.FromDay, back.ToDay));
            Assert.Equal((m.Count, m.Fingerprint, m.RangeFrom, m.RangeTo, m.Depth, m.Level), (back.Count, back.Fingerprint, back.RangeFrom, back.RangeTo, back.Depth, back.Level));
            Assert.Equal(m.Events, back.Events);
            Assert.Equal(m.Events.Select(e => e.Origin), back.Events.Select(e => e.Origin));
            Assert.Equal(m.Sealed.Select(r => r.Encode()), back.Sealed.Select(r => r.Encode()));
            Assert.Equal(m.Indexes, back.Indexes);
            Assert.Equal(m.Hashes, back.Hashes);
            Assert.Equal(m.Digests, back.Digests);
            Assert.Equal(m.RangeTotals, back.RangeTotals);
            Assert.Equal(m.Links, back.Links);
            Assert.Equal(m.Stats is null, back.Stats is null);
            if (m.Stats is { } stats)
            {
                Assert.Equal((stats.Code, stats.Total, stats.Human, stats.Bots), (back.Stats!.Code, back.Stats.Total, back.Stats.Human, back.Stats.Bots));
                Assert.Equal(stats.Days, back.Stats.Days);
                Assert.Equal(stats.TopReferrers, back.Stats.TopReferrers);
            }
        });
    }

    [Fact]
    public void Damaged_or_foreign_bytes_are_a_format_error_and_nothing_else()
    {
        var good = ClickMessageCodec.Encode(new ClickMessage(ClickMessageType.Write, 1, 2, 3) { Events = [new ClickEvent(Guid.NewGuid(), "abc", 1, new HlcTimestamp(1, 0), ClickKind.Human, null, null)] });
        Assert.Throws<FormatException>(() => ClickMessageCodec.Decode([]));
        Assert.Throws<FormatException>(() => ClickMessageCodec.Decode(good[..^1]));
        Assert.Throws<FormatException>(() => ClickMessageCodec.Decode([.. good, 0]));
        Assert.Throws<FormatException>(() => ClickMessageCodec.Decode([9, .. good[1..]]));
        Assert.Throws<FormatException>(() => ClickMessageCodec.Decode([1, 99, .. good[2..]]));

        // Every single-byte change and every cut either decodes to a message or is a format error.
        Gen.Select(Gen.Int[0, good.Length - 1], Gen.Byte, Gen.Int[0, good.Length]).Sample((at, value, cut) =>
        {
            var damaged = (byte[])good.Clone();
            damaged[at] = value;
            foreach (var bytes in new[] { damaged, good[..cut] })
            {
                try
                {
                    ClickMessageCodec.Decode(bytes);
                }
                catch (FormatException)
                {
                }
            }
        });
    }

    [Fact]
    public void A_list_longer_than_the_bytes_left_is_refused_before_anything_is_allocated()
    {
        var good = ClickMessageCodec.Encode(new ClickMessage(ClickMessageType.Fetch, 1, 2, 3));
        // The events count follows 2 + 3·8 + 1 + 8 + (4 + 0) + 4·2 + 8·4 + 4·2 header bytes.
        var at = 2 + 24 + 1 + 8 + 4 + 8 + 8 + 8 + 8 + 8 + 8;
        var huge = (byte[])good.Clone();
        BitConverter.TryWriteBytes(huge.AsSpan(at), uint.MaxValue);
        var e = Assert.Throws<FormatException>(() => ClickMessageCodec.Decode(huge));
        Assert.Contains("does not fit", e.Message);
    }
}
