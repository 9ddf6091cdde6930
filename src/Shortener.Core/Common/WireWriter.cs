using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Shortener.Core.Common;

/// <summary>Little-endian fields appended to a buffer: the writing half of the binary formats between nodes (<see cref="WireReader"/> reads them).</summary>
internal static class WireWriter
{
    public static void Byte(this ArrayBufferWriter<byte> w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    public static void U32(this ArrayBufferWriter<byte> w, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    public static void I32(this ArrayBufferWriter<byte> w, int value) => w.U32((uint)value);

    public static void U64(this ArrayBufferWriter<byte> w, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    public static void I64(this ArrayBufferWriter<byte> w, long value) => w.U64((ulong)value);

    /// <summary>A string as its UTF-8 length, then its bytes.</summary>
    public static void Str(this ArrayBufferWriter<byte> w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.U32((uint)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>A byte string as its length, then its bytes.</summary>
    public static void Blob(this ArrayBufferWriter<byte> w, ReadOnlySpan<byte> value)
    {
        w.U32((uint)value.Length);
        w.Write(value);
    }
}
