using System.Buffers.Binary;
using System.Text;

namespace Shortener.Core.Common;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote. Anything cut short or out of shape is a
/// <see cref="FormatException"/>; a list's count is checked against the bytes left before anything
/// is allocated for it.
/// </summary>
internal ref struct WireReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public readonly bool AtEnd => _at == _data.Length;

    public byte Byte() => Bytes(1)[0];

    public bool Flag() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new FormatException($"a flag of {b} in {what}"),
    };

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

    public int I32() => (int)U32();

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

    public long I64() => (long)U64();

    public string Str() => Encoding.UTF8.GetString(Bytes((int)Math.Min(U32(), int.MaxValue)));

    public ReadOnlySpan<byte> Blob() => Bytes((int)Math.Min(U32(), int.MaxValue));

    /// <summary>A list's count, refused when even the smallest items could not fit in what is left.</summary>
    public int Count(int minItemBytes)
    {
        var count = U32();
        if (count > (uint)((_data.Length - _at) / minItemBytes))
        {
            throw new FormatException($"a list of {count} does not fit in the {_data.Length - _at} bytes left of {what}");
        }

        return (int)count;
    }

    public ReadOnlySpan<byte> Bytes(int length)
    {
        if (length < 0 || _data.Length - _at < length)
        {
            throw new FormatException($"{what} cut short");
        }

        var span = _data.Slice(_at, length);
        _at += length;
        return span;
    }

    /// <summary>Refuses bytes after the end of what was read.</summary>
    public readonly void End()
    {
        if (!AtEnd)
        {
            throw new FormatException($"{_data.Length - _at} bytes after {what}");
        }
    }
}
