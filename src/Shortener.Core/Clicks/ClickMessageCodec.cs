using System.Buffers;
using System.Buffers.Binary;
using System.Text;

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
    private const byte Version = 2;

    public static byte[] Encode(ClickMessage m)
    {
        var w = new ArrayBufferWriter<byte>(128);
        Byte(w, Version);
        Byte(w, (byte)m.Type);
        U64(w, m.From);
        U64(w, m.To);
        U64(w, m.Op);
        Byte(w, m.Ok ? (byte)1 : (byte)0);
        U64(w, m.HintFor);
        Str(w, m.Code);
        I32(w, m.FromDay);
        I32(w, m.ToDay);
        I64(w, m.Count);
        U64(w, m.Fingerprint);
        U64(w, m.RangeFrom);
        U64(w, m.RangeTo);
        I32(w, m.Depth);
        I32(w, m.Level);

        U32(w, (uint)m.Events.Count);
        foreach (var e in m.Events)
        {
            var bytes = e.Encode();
            U32(w, (uint)bytes.Length);
            w.Write(bytes);
        }

        U32(w, (uint)m.Indexes.Count);
        foreach (var i in m.Indexes)
        {
            I32(w, i);
        }

        U32(w, (uint)m.Hashes.Count);
        foreach (var h in m.Hashes)
        {
            U64(w, h);
        }

        U32(w, (uint)m.Digests.Count);
        foreach (var (key, value) in m.Digests)
        {
            U64(w, key);
            U64(w, value);
        }

        U32(w, (uint)m.Days.Count);
        foreach (var d in m.Days)
        {
            U64(w, d);
        }

        U32(w, (uint)m.RangeTotals.Count);
        foreach (var (from, human, bots) in m.RangeTotals)
        {
            U64(w, from);
            I64(w, human);
            I64(w, bots);
        }

        U32(w, (uint)m.Links.Count);
        foreach (var link in m.Links)
        {
            Str(w, link.Code);
            I64(w, link.Human);
            I64(w, link.Bots);
        }

        if (m.Stats is { } stats)
        {
            Byte(w, 1);
            Str(w, stats.Code);
            I64(w, stats.Human);
            I64(w, stats.Bots);
            U32(w, (uint)stats.Days.Count);
            foreach (var day in stats.Days)
            {
                I32(w, day.Day);
                I64(w, day.Human);
                I64(w, day.Bots);
            }

            U32(w, (uint)stats.TopReferrers.Count);
            foreach (var r in stats.TopReferrers)
            {
                Str(w, r.Referrer);
                I64(w, r.Clicks);
            }
        }
        else
        {
            Byte(w, 0);
        }

        return w.WrittenSpan.ToArray();
    }

    public static ClickMessage Decode(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
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
        var ok = r.Byte() switch
        {
            0 => false,
            1 => true,
            var b => throw new FormatException($"a flag of {b}"),
        };
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
            var length = (int)r.U32();
            events[i] = ClickEvent.Decode(r.Bytes(length));
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

        var links = new ClickTotals[r.Count(18)];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = new ClickTotals(r.Str(), r.I64(), r.I64());
        }

        ClickStats? stats = null;
        if (r.Byte() == 1)
        {
            var statsCode = r.Str();
            var human = r.I64();
            var bots = r.I64();
            var days = new ClickDay[r.Count(20)];
            for (var i = 0; i < days.Length; i++)
            {
                days[i] = new ClickDay(r.I32(), r.I64(), r.I64());
            }

            var referrers = new ReferrerCount[r.Count(10)];
            for (var i = 0; i < referrers.Length; i++)
            {
                referrers[i] = new ReferrerCount(r.Str(), r.I64());
            }

            stats = new ClickStats(statsCode, human + bots, human, bots, days, referrers);
        }

        if (!r.AtEnd)
        {
            throw new FormatException("bytes after the click message");
        }

        return new ClickMessage(type, from, to, op)
        {
            Ok = ok,
            HintFor = hintFor,
            Events = events,
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

    private static void Byte(ArrayBufferWriter<byte> w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    private static void U32(ArrayBufferWriter<byte> w, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    private static void I32(ArrayBufferWriter<byte> w, int value) => U32(w, (uint)value);

    private static void U64(ArrayBufferWriter<byte> w, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    private static void I64(ArrayBufferWriter<byte> w, long value) => U64(w, (ulong)value);

    private static void Str(ArrayBufferWriter<byte> w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        U32(w, (uint)bytes.Length);
        w.Write(bytes);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly bool AtEnd => _at == _data.Length;

        public byte Byte() => Bytes(1)[0];

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        public int I32() => (int)U32();

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

        public long I64() => (long)U64();

        public string Str() => Encoding.UTF8.GetString(Bytes((int)Math.Min(U32(), int.MaxValue)));

        /// <summary>A list's count, refused when even the smallest items could not fit in what is left.</summary>
        public int Count(int minItemBytes)
        {
            var count = U32();
            if (count > (uint)((_data.Length - _at) / minItemBytes))
            {
                throw new FormatException($"a list of {count} does not fit in the {_data.Length - _at} bytes left");
            }

            return (int)count;
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length < 0 || _data.Length - _at < length)
            {
                throw new FormatException("a click message cut short");
            }

            var span = _data.Slice(_at, length);
            _at += length;
            return span;
        }
    }
}
