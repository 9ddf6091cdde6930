using System.Buffers.Binary;
using System.Numerics;

namespace Shortener.Storage.Raft;

/// <summary>CRC-32C (Castagnoli), using the CPU's CRC instruction where there is one (BitOperations picks).</summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data, uint seed = 0)
    {
        var crc = ~seed;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
