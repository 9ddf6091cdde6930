using System.Buffers.Binary;

namespace Shortener.Core.Raft;

/// <summary>
/// A membership change: a set of single changes and how to carry them out. An empty change with
/// <see cref="ConfChangeTransition.Auto"/> leaves a joint configuration.
/// </summary>
public sealed record ConfChange(ConfChangeTransition Transition, IReadOnlyList<ConfChangeSingle> Changes)
{
    public static readonly ConfChange LeaveJoint = new(ConfChangeTransition.Auto, []);

    public bool IsLeaveJoint => Changes.Count == 0 && Transition == ConfChangeTransition.Auto;

    public static ConfChange Single(ConfChangeType type, ulong nodeId) => new(ConfChangeTransition.Auto, [new ConfChangeSingle(type, nodeId)]);

    /// <summary>Whether applying this enters a joint configuration, and if so whether the leader leaves it on its own.</summary>
    public (bool Joint, bool AutoLeave) EntersJoint()
    {
        if (Transition != ConfChangeTransition.Auto || Changes.Count > 1)
        {
            return (true, Transition != ConfChangeTransition.JointExplicit);
        }

        return (false, false);
    }

    public byte[] Encode()
    {
        var bytes = new byte[2 + (Changes.Count * 9)];
        bytes[0] = (byte)Transition;
        bytes[1] = checked((byte)Changes.Count);
        for (var i = 0; i < Changes.Count; i++)
        {
            bytes[2 + (i * 9)] = (byte)Changes[i].Type;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(3 + (i * 9)), Changes[i].NodeId);
        }

        return bytes;
    }

    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data.Length != 2 + (data[1] * 9) || data[0] > (byte)ConfChangeTransition.JointExplicit)
        {
            throw new FormatException("not an encoded ConfChange");
        }

        var changes = new ConfChangeSingle[data[1]];
        for (var i = 0; i < changes.Length; i++)
        {
            var type = data[2 + (i * 9)];
            if (type > (byte)ConfChangeType.AddLearner)
            {
                throw new FormatException("unknown ConfChangeType");
            }

            changes[i] = new ConfChangeSingle((ConfChangeType)type, BinaryPrimitives.ReadUInt64LittleEndian(data[(3 + (i * 9))..]));
        }

        return new ConfChange((ConfChangeTransition)data[0], changes);
    }

    public override string ToString() =>
        IsLeaveJoint ? "leave-joint" : $"{Transition}: {string.Join(", ", Changes.Select(c => $"{c.Type} {c.NodeId}"))}";
}
