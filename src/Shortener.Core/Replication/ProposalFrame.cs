using System.Buffers.Binary;

namespace Shortener.Core.Replication;

/// <summary>
/// A command as a Raft entry: [u8 version][u64 proposer][u64 sequence][payload], integers little
/// endian. The driver frames what it proposes and unframes what it applies, so the state machine
/// sees its own bytes and the proposal id.
/// </summary>
public static class ProposalFrame
{
    private const byte Version = 1;
    private const int HeaderBytes = 17;

    public static byte[] Encode(ProposalId id, ReadOnlySpan<byte> payload)
    {
        var data = new byte[HeaderBytes + payload.Length];
        data[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(1), id.Proposer);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(9), id.Sequence);
        payload.CopyTo(data.AsSpan(HeaderBytes));
        return data;
    }

    /// <summary>Unframes an entry; throws <see cref="FormatException"/> for bytes no version of this code framed.</summary>
    public static (ProposalId Id, ReadOnlyMemory<byte> Payload) Decode(byte[] data)
    {
        if (data.Length < HeaderBytes || data[0] != Version)
        {
            throw new FormatException($"not a framed proposal (length {data.Length}, version {(data.Length > 0 ? data[0] : 0)})");
        }

        var id = new ProposalId(BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(1)), BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(9)));
        return (id, data.AsMemory(HeaderBytes));
    }
}
