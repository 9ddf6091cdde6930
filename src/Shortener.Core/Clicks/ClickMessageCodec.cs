using System.Buffers;
using Shortener.Core.Common;

namespace Shortener.Core.Clicks;

/// <summary>
/// The binary form of a <see cref="ClickMessage"/> between nodes: a version byte, the type, the
/// header fields, then each list with its count. Every field is written for every type (a few
/// dozen bytes of zeros for the small ones), which keeps one reader for all. Anything that is not
/// a message this version wrote decodes to a <see cref="FormatException"/>, never to a partial
/// message; counts are checked against the bytes left before anything is allocated.
/// </summary>
public static class ClickMessageCodec
{
    /// <summary>3: sealed days (and clicks with their origin). A node of version 2 drops these messages, and this one drops its.</summary>
    private const byte Version = 3;

    public static byte[] Encode(ClickMessage m)
    {
        var w = new ArrayBufferWriter<byte>(128);
        w.Byte(Version);
        w.Byte((byte)m.Type);
        w.U64(m.From);
        w.U64(m.To);
        w.U64(m.Op);
        w.Byte(m.Ok ? (byte)1 : (byte)0);
        w.U64(m.HintFor);
        w.Str(m.Code);
        w.I32(m.FromDay);
        w.I32(m.ToDay);
        w.I64(m.Count);
        w.U64(m.Fingerprint);
        w.U64(m.RangeFrom);
        w.U64(m.RangeTo);
        w.I32(m.Depth);
        w.I32(m.Level);

        w.U32((uint)m.Events.Count);
        foreach (var e in m.Events)
        {
            w.Blob(e.Encode());
        }

        w.U32((uint)m.Indexes.Count);
        foreach (var i in m.Indexes)
        {
            w.I32(i);
        }

        w.U32((uint)m.Hashes.Count);
        foreach (var h in m.Hashes)
        {
            w.U64(h);
        }

        w.U32((uint)m.Digests.Count);
        foreach (var (key, value) in m.Digests)
        {
            w.U64(key);
            w.U64(value);
        }

        w.U32((uint)m.Days.Count);
        foreach (var d in m.Days)
        {
            w.U64(d);
        }

        w.U32((uint)m.RangeTotals.Count);
        foreach (var (from, human, bots) in m.RangeTotals)
        {
            w.U64(from);
            w.I64(human);
            w.I64(bots);
        }

        w.U32((uint)m.Links.Count);
        foreach (var link in m.Links)
        {
            w.Str(link.Code);
            w.I64(link.Human);
            w.I64(link.Bots);
        }

        w.U32((uint)m.Sealed.Count);
        foreach (var record in m.Sealed)
        {
            w.Blob(record.Encode());
        }

        if (m.Stats is { } stats)
        {
            w.Byte(1);
            w.Str(stats.Code);
            w.I64(stats.Human);
            w.I64(stats.Bots);
            w.U32((uint)stats.Days.Count);
            foreach (var day in stats.Days)
            {
                w.I32(day.Day);
                w.I64(day.Human);
                w.I64(day.Bots);
            }

            w.U32((uint)stats.TopReferrers.Count);
            foreach (var r in stats.TopReferrers)
            {
                w.Str(r.Referrer);
                w.I64(r.Clicks);
            }
        }
        else
        {
            w.Byte(0);
        }

        return w.WrittenSpan.ToArray();
    }

    public static ClickMessage Decode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data, "a click message");
        if (r.Byte() != Version)
        {
            throw new FormatException("not a click message this version can read");
        }

        var type = (ClickMessageType)r.Byte();
        if (!Enum.IsDefined(type))
        {
            throw new FormatException($"unknown click message type {(byte)type}");
        }

        var from = r.U64();
        var to = r.U64();
        var op = r.U64();
        var ok = r.Flag();
        var hintFor = r.U64();
        var code = r.Str();
        var fromDay = r.I32();
        var toDay = r.I32();
        var count = r.I64();
        var fingerprint = r.U64();
        var rangeFrom = r.U64();
        var rangeTo = r.U64();
        var depth = r.I32();
        var level = r.I32();

        var events = new ClickEvent[r.Count(4)];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = ClickEvent.Decode(r.Blob());
        }

        var indexes = new int[r.Count(4)];
        for (var i = 0; i < indexes.Length; i++)
        {
            indexes[i] = r.I32();
        }

        var hashes = new ulong[r.Count(8)];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = r.U64();
        }

        var digests = new (ulong, ulong)[r.Count(16)];
        for (var i = 0; i < digests.Length; i++)
        {
            digests[i] = (r.U64(), r.U64());
        }

        var dayKeys = new ulong[r.Count(8)];
        for (var i = 0; i < dayKeys.Length; i++)
        {
            dayKeys[i] = r.U64();
        }

        var ranges = new (ulong, long, long)[r.Count(24)];
        for (var i = 0; i < ranges.Length; i++)
        {
            ranges[i] = (r.U64(), r.I64(), r.I64());
        }

        var links = new ClickTotals[r.Count(20)];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = new ClickTotals(r.Str(), r.I64(), r.I64());
        }

        var sealedDays = new SealedDayRecord[r.Count(4)];
        for (var i = 0; i < sealedDays.Length; i++)
        {
            sealedDays[i] = SealedDayRecord.Decode(r.Blob());
        }

        ClickStats? stats = null;
        if (r.Flag())
        {
            var statsCode = r.Str();
            var human = r.I64();
            var bots = r.I64();
            var days = new ClickDay[r.Count(20)];
            for (var i = 0; i < days.Length; i++)
            {
                days[i] = new ClickDay(r.I32(), r.I64(), r.I64());
            }

            var referrers = new ReferrerCount[r.Count(12)];
            for (var i = 0; i < referrers.Length; i++)
            {
                referrers[i] = new ReferrerCount(r.Str(), r.I64());
            }

            stats = new ClickStats(statsCode, human + bots, human, bots, days, referrers);
        }

        r.End();
        return new ClickMessage(type, from, to, op)
        {
            Ok = ok,
            HintFor = hintFor,
            Events = events,
            Sealed = sealedDays,
            Code = code,
            FromDay = fromDay,
            ToDay = toDay,
            Count = count,
            Fingerprint = fingerprint,
            Stats = stats,
            RangeFrom = rangeFrom,
            RangeTo = rangeTo,
            Depth = depth,
            Level = level,
            Indexes = indexes,
            Hashes = hashes,
            Digests = digests,
            Days = dayKeys,
            RangeTotals = ranges,
            Links = links,
        };
    }
}
