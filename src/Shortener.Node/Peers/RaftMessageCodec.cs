using Google.Protobuf;
using Shortener.Core.Raft;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Peers;

/// <summary>Raft messages to and from their wire form. Byte arrays are wrapped, not copied, on the way out.</summary>
public static class RaftMessageCodec
{
    public static ShardMessage Encode(int shard, RaftMessage m)
    {
        var wire = new ShardMessage
        {
            Shard = (uint)shard,
            Type = (uint)m.Type,
            From = m.From,
            To = m.To,
            Term = m.Term,
            LogTerm = m.LogTerm,
            Index = m.Index,
            Commit = m.Commit,
            Reject = m.Reject,
            RejectHint = m.RejectHint,
            SentAtTick = m.SentAtTick,
            SnapshotOffset = m.SnapshotOffset,
            SnapshotDone = m.SnapshotDone,
        };
        if (m.Context.Length > 0)
        {
            wire.Context = UnsafeByteOperations.UnsafeWrap(m.Context);
        }

        if (m.SnapshotChunk.Length > 0)
        {
            wire.SnapshotChunk = UnsafeByteOperations.UnsafeWrap(m.SnapshotChunk);
        }

        foreach (var e in m.Entries)
        {
            wire.Entries.Add(new Entry { Term = e.Term, Index = e.Index, Type = (uint)e.Type, Data = UnsafeByteOperations.UnsafeWrap(e.Data) });
        }

        if (m.SnapshotMetadata is { } meta)
        {
            var snapshot = new SnapshotMeta { Index = meta.Index, Term = meta.Term, AutoLeave = meta.ConfState.AutoLeave };
            snapshot.Voters.AddRange(meta.ConfState.Voters);
            snapshot.Learners.AddRange(meta.ConfState.Learners);
            snapshot.VotersOutgoing.AddRange(meta.ConfState.VotersOutgoing);
            snapshot.LearnersNext.AddRange(meta.ConfState.LearnersNext);
            wire.Snapshot = snapshot;
        }

        return wire;
    }

    /// <summary>The message, or null when the wire form names no known message type (a newer peer, or garbage).</summary>
    public static RaftMessage? Decode(ShardMessage wire)
    {
        if (wire.Type > (uint)MessageType.StorageAppended || wire.Entries.Any(e => e.Type > (uint)EntryType.ConfChange))
        {
            return null;
        }

        SnapshotMetadata? meta = null;
        if (wire.Snapshot is { } s)
        {
            meta = new SnapshotMetadata(s.Index, s.Term, new ConfState(s.Voters.ToArray(), s.Learners.ToArray(), s.VotersOutgoing.ToArray(), s.LearnersNext.ToArray(), s.AutoLeave));
        }

        return new RaftMessage
        {
            Type = (MessageType)wire.Type,
            From = wire.From,
            To = wire.To,
            Term = wire.Term,
            LogTerm = wire.LogTerm,
            Index = wire.Index,
            Commit = wire.Commit,
            Reject = wire.Reject,
            RejectHint = wire.RejectHint,
            SentAtTick = wire.SentAtTick,
            SnapshotOffset = wire.SnapshotOffset,
            SnapshotDone = wire.SnapshotDone,
            Context = wire.Context.IsEmpty ? [] : wire.Context.ToByteArray(),
            SnapshotChunk = wire.SnapshotChunk.IsEmpty ? [] : wire.SnapshotChunk.ToByteArray(),
            SnapshotMetadata = meta,
            Entries = wire.Entries.Count == 0
                ? []
                : wire.Entries.Select(e => new RaftEntry(e.Term, e.Index, (EntryType)e.Type, e.Data.IsEmpty ? RaftEntry.NoData : e.Data.ToByteArray())).ToArray(),
        };
    }
}
