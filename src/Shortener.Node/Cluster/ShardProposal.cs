using System.Buffers.Binary;
using System.Text;
using Shortener.Core.Links;

namespace Shortener.Node.Cluster;

/// <summary>
/// A link command as a Raft entry: [u8 version][u64 proposer][u64 id][JSON envelope]. The proposer
/// is a random number drawn when the node process starts and the id counts its proposals, so the
/// node that proposed an entry recognises it when it applies it, and an entry proposed before a
/// restart is never mistaken for one proposed after.
/// </summary>
public readonly record struct ShardProposal(ulong Proposer, ulong Id, LinkCommandEnvelope Envelope)
{
    private const byte Version = 1;
    private const int HeaderBytes = 17;

    public byte[] Encode()
    {
        var json = Encoding.UTF8.GetBytes(LinkJson.Serialize(Envelope));
        var data = new byte[HeaderBytes + json.Length];
        data[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(1), Proposer);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(9), Id);
        json.CopyTo(data, HeaderBytes);
        return data;
    }

    /// <summary>Decodes an entry; throws <see cref="FormatException"/> for data no version of this code wrote.</summary>
    public static ShardProposal Decode(byte[] data)
    {
        if (data.Length < HeaderBytes || data[0] != Version)
        {
            throw new FormatException($"not a link proposal (length {data.Length}, version {(data.Length > 0 ? data[0] : 0)})");
        }

        var envelope = LinkJson.Deserialize<LinkCommandEnvelope>(Encoding.UTF8.GetString(data, HeaderBytes, data.Length - HeaderBytes));
        return new ShardProposal(BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(1)), BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(9)), envelope);
    }
}
