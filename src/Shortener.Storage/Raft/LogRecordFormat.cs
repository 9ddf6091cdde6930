using System.Buffers;
using System.Buffers.Binary;
using Shortener.Core.Raft;

namespace Shortener.Storage.Raft;

/// <summary>
/// The records of the node's Raft log on disk: each framed as [u32 payload length][u8 type]
/// [u32 group][u32 batch][u32 CRC-32C of type, group, batch and payload][payload], and the payload
/// of each <see cref="LogRecordType"/>. These bytes are on disk: change them only with a new format.
/// </summary>
internal static class LogRecordFormat
{
    internal const int HeaderBytes = 17;
    internal const int MaxPayloadBytes = 256 << 20;

    internal static bool TryRead(byte[] data, int offset, out LogRecord record)
    {
        record = default;
        if (data.Length - offset < HeaderBytes)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
        if (length > MaxPayloadBytes || offset + HeaderBytes + (long)length > data.Length)
        {
            return false;
        }

        var type = (LogRecordType)data[offset + 4];
        if (type is < LogRecordType.SegmentHeader or > LogRecordType.GroupRemoved)
        {
            return false;
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 13));
        var payload = data.AsSpan(offset + HeaderBytes, (int)length);
        if (Crc32C.Compute(payload, Crc32C.Compute(data.AsSpan(offset + 4, 9))) != crc)
        {
            return false;
        }

        record = new LogRecord(
            type,
            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 5)),
            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 9)),
            new ReadOnlyMemory<byte>(data, offset + HeaderBytes, (int)length),
            HeaderBytes + (int)length);
        return true;
    }

    internal static void Frame(ArrayBufferWriter<byte> buffer, LogRecordType type, uint group, uint batch, ReadOnlySpan<byte> payload)
    {
        var span = buffer.GetSpan(HeaderBytes + payload.Length);
        payload.CopyTo(span[HeaderBytes..]);
        WriteHeader(span, type, group, batch, payload.Length);
        buffer.Advance(HeaderBytes + payload.Length);
    }

    internal static void WriteHeader(Span<byte> record, LogRecordType type, uint group, uint batch, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payloadLength);
        record[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(record[5..], group);
        BinaryPrimitives.WriteUInt32LittleEndian(record[9..], batch);
        var crc = Crc32C.Compute(record.Slice(HeaderBytes, payloadLength), Crc32C.Compute(record.Slice(4, 9)));
        BinaryPrimitives.WriteUInt32LittleEndian(record[13..], crc);
    }

    internal static void EncodeEntry(Span<byte> payload, RaftEntry entry)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], entry.Index);
        payload[16] = (byte)entry.Type;
        entry.Data.CopyTo(payload[17..]);
    }

    internal static RaftEntry DecodeEntry(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
        (EntryType)payload[16],
        payload[17..].ToArray());

    internal static void EncodeHardState(Span<byte> payload, HardState state)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, state.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], state.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], state.Commit);
    }

    internal static void EncodeSnapshot(Span<byte> payload, ulong index, ulong term, bool installed)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], term);
        payload[16] = installed ? (byte)1 : (byte)0;
    }

    /// <summary>A group's live entries as one record: [u32 count] then, per entry, [u32 length][entry].</summary>
    internal static byte[] EncodeRewrite(IReadOnlyList<RaftEntry> entries)
    {
        var size = 4 + entries.Sum(e => 4 + 17 + e.Data.Length);
        var payload = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)entries.Count);
        var at = 4;
        foreach (var entry in entries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(at), (uint)(17 + entry.Data.Length));
            EncodeEntry(payload.AsSpan(at + 4), entry);
            at += 4 + 17 + entry.Data.Length;
        }

        return payload;
    }

    internal static List<RaftEntry> DecodeRewrite(ReadOnlySpan<byte> payload, string path)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var entries = new List<RaftEntry>((int)Math.Min(count, 1 << 16));
        var at = 4;
        for (var i = 0u; i < count; i++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[at..]);
            if (length < 17 || at + 4 + length > payload.Length)
            {
                throw new WalCorruptionException($"a rewrite record in {path} is malformed");
            }

            entries.Add(DecodeEntry(payload.Slice(at + 4, length)));
            at += 4 + length;
        }

        return entries;
    }
}

/// <summary>One intact record as read back: its header fields and its payload.</summary>
internal readonly record struct LogRecord(LogRecordType Type, uint Group, uint Batch, ReadOnlyMemory<byte> Memory, int Size)
{
    public ReadOnlySpan<byte> Payload => Memory.Span;
}
