using System.Buffers.Binary;
using System.Text;
using Shortener.Core.Clocks;

namespace Shortener.Core.Clicks;

/// <summary>
/// One redirect that was followed: the unit the click store keeps, deduplicated by
/// <see cref="Id"/> (made once on the redirect path, so every retry of its delivery carries the
/// same id and counts once). <see cref="Referrer"/> is the referring host only; <see cref="Country"/>
/// an ISO 3166 code when a trusted header gave one; <see cref="Origin"/> the node whose redirect
/// recorded it (the entry it counts in once its day is sealed, see <see cref="SealedDay"/>).
/// </summary>
public sealed record ClickEvent(Guid Id, string Code, long AtMs, HlcTimestamp Hlc, ClickKind Kind, string? Referrer, string? Country)
{
    public const int MaxReferrerLength = 253;
    /// <summary>Format 1 has no origin (clicks recorded before origins were, and any with origin 0); format 2 ends with it.</summary>
    private const byte FormatWithoutOrigin = 1;
    private const byte FormatWithOrigin = 2;

    /// <summary>The referring host; an empty one is none (so every replica stores it alike).</summary>
    public string? Referrer { get; init; } = string.IsNullOrEmpty(Referrer) ? null : Referrer;

    public string? Country { get; init; } = string.IsNullOrEmpty(Country) ? null : Country;

    /// <summary>The node that recorded the click (0: unknown, a click from before origins were recorded).</summary>
    public ulong Origin { get; init; }

    /// <summary>The UTC day (days since 1970-01-01) the click belongs to.</summary>
    public int Day => DayOf(AtMs);

    /// <summary>The UTC day (days since 1970-01-01) of a time in Unix milliseconds.</summary>
    public static int DayOf(long unixMs) => (int)Math.Floor(unixMs / 86_400_000.0);

    /// <summary>
    /// A compact binary form (the outbox record and the wire format between nodes). A click without
    /// an origin keeps format 1, so its content hash is what it was before origins existed.
    /// </summary>
    /// <exception cref="ArgumentException">A field the format cannot hold: refused here, by the writer, not later by a reader.</exception>
    public byte[] Encode()
    {
        var code = Encoding.UTF8.GetBytes(Code);
        var referrer = Referrer is null ? [] : Encoding.UTF8.GetBytes(Referrer);
        var country = Country is null ? [] : Encoding.UTF8.GetBytes(Country);
        if (code.Length is 0 or > ushort.MaxValue || referrer.Length > ushort.MaxValue || country.Length > byte.MaxValue
            || Hlc.WallMs is < 0 or >= 1L << 48 || Hlc.Logical is < 0 or > HlcTimestamp.MaxLogical || !Enum.IsDefined(Kind))
        {
            throw new ArgumentException($"click event {Id} cannot be encoded: code 1 to 65,535 bytes (got {code.Length}), referrer up to 65,535 ({referrer.Length}), country up to 255 ({country.Length}), a packable HLC ({Hlc}), a known kind ({Kind})");
        }

        var originBytes = Origin == 0 ? 0 : 8;
        var buffer = new byte[1 + 16 + 8 + 8 + 1 + 2 + code.Length + 2 + referrer.Length + 1 + country.Length + originBytes];
        var span = buffer.AsSpan();
        span[0] = Origin == 0 ? FormatWithoutOrigin : FormatWithOrigin;
        Id.TryWriteBytes(span[1..17]);
        BinaryPrimitives.WriteInt64LittleEndian(span[17..], AtMs);
        BinaryPrimitives.WriteUInt64LittleEndian(span[25..], Hlc.Pack());
        span[33] = (byte)Kind;
        var at = 34;
        at = WriteField(span, at, code, 2);
        at = WriteField(span, at, referrer, 2);
        at = WriteField(span, at, country, 1);
        if (Origin != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[at..], Origin);
        }

        return buffer;
    }

    /// <summary>The event <see cref="Encode"/> wrote; throws <see cref="FormatException"/> for anything else.</summary>
    public static ClickEvent Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 34 || data[0] is not (FormatWithoutOrigin or FormatWithOrigin))
        {
            throw new FormatException($"not a click event this version can read ({data.Length} bytes, format {(data.Length > 0 ? data[0] : -1)})");
        }

        var id = new Guid(data[1..17]);
        var atMs = BinaryPrimitives.ReadInt64LittleEndian(data[17..]);
        var hlc = HlcTimestamp.Unpack(BinaryPrimitives.ReadUInt64LittleEndian(data[25..]));
        var kind = (ClickKind)data[33];
        if (!Enum.IsDefined(kind))
        {
            throw new FormatException($"unknown click kind {data[33]}");
        }

        var at = 34;
        var code = ReadField(data, ref at, 2) ?? throw new FormatException("a click event without a code");
        var referrer = ReadField(data, ref at, 2);
        var country = ReadField(data, ref at, 1);
        var origin = 0UL;
        if (data[0] == FormatWithOrigin)
        {
            if (data.Length - at < 8)
            {
                throw new FormatException("a click event cut short");
            }

            origin = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
            at += 8;
            if (origin == 0)
            {
                throw new FormatException("a click event of format 2 with origin 0 (format 1 is written for that)");
            }
        }

        if (at != data.Length)
        {
            throw new FormatException($"{data.Length - at} bytes after the click event");
        }

        return new ClickEvent(id, code, atMs, hlc, kind, referrer, country) { Origin = origin };
    }

    private static int WriteField(Span<byte> span, int at, byte[] value, int lengthBytes)
    {
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)value.Length);
        }
        else
        {
            span[at] = (byte)value.Length;
        }

        value.CopyTo(span[(at + lengthBytes)..]);
        return at + lengthBytes + value.Length;
    }

    private static string? ReadField(ReadOnlySpan<byte> data, ref int at, int lengthBytes)
    {
        if (data.Length - at < lengthBytes)
        {
            throw new FormatException("a click event cut short");
        }

        var length = lengthBytes == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) : data[at];
        at += lengthBytes;
        if (data.Length - at < length)
        {
            throw new FormatException("a click event cut short");
        }

        var value = length == 0 ? null : Encoding.UTF8.GetString(data.Slice(at, length));
        at += length;
        return value;
    }
}
