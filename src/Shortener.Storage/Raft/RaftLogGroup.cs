using Shortener.Core.Raft;

namespace Shortener.Storage.Raft;

/// <summary>
/// One Raft group's part of the node's <see cref="RaftLogEngine"/> (a shard replica's log): it
/// queues the group's records into the engine's next batch, and releases entries a snapshot covers.
/// The engine owns the fields below; they are read and written under its lock.
/// </summary>
public sealed class RaftLogGroup
{
    private readonly RaftLogEngine _engine;

    internal RaftLogGroup(RaftLogEngine engine, uint id, RecoveredRaftState recovered)
    {
        _engine = engine;
        Id = id;
        Recovered = recovered;
        HardState = WrittenHardState = recovered.HardState;
        Snapshot = WrittenSnapshot = (recovered.SnapshotIndex, recovered.SnapshotTerm);
        Released = recovered.SnapshotIndex;
        LastIndex = WrittenLastIndex = recovered.Entries.Count > 0 ? recovered.Entries[^1].Index : recovered.SnapshotIndex;
    }

    public uint Id { get; }

    /// <summary>What the log held for this group when the engine was opened.</summary>
    public RecoveredRaftState Recovered { get; }

    /// <summary>
    /// The group's live log (its published entries), for the engine to copy forward when they are
    /// all that keeps an old segment. Without it, the group's old segments stay until its snapshot.
    /// </summary>
    public Func<IReadOnlyList<RaftEntry>>? LiveEntries { get; set; }

    internal bool Claimed { get; set; }

    internal bool Removed { get; set; }

    /// <summary>Queued hard state and snapshot position, and as of the last batch written (restated by a new segment).</summary>
    internal HardState HardState { get; set; }

    internal HardState WrittenHardState { get; set; }

    internal (ulong Index, ulong Term) Snapshot { get; set; }

    internal (ulong Index, ulong Term) WrittenSnapshot { get; set; }

    /// <summary>Entries up to here are covered by a durable snapshot: they keep no segment.</summary>
    internal ulong Released { get; set; }

    /// <summary>
    /// The last index of the group's log as queued, and as of the last batch written: entries
    /// above it in older segments were cut off by a new leader (once that cut is durable).
    /// </summary>
    internal ulong LastIndex { get; set; }

    internal ulong WrittenLastIndex { get; set; }

    /// <summary>Whether the batch being built holds a record of this group.</summary>
    internal bool InBatch { get; set; }

    /// <summary>The highest entry index queued in the batch being built.</summary>
    internal ulong PendingMaxIndex { get; set; }

    /// <summary>The batch being built replaces (an installed snapshot) or restates (a rewrite) the group's older records.</summary>
    internal bool PendingReset { get; set; }

    /// <summary>The index of a snapshot installed in the batch being built (0: none).</summary>
    internal ulong PendingInstalled { get; set; }

    /// <summary>
    /// Whether a segment whose highest entry of this group is <paramref name="maxIndex"/> may hold
    /// some of its live log: entries above the snapshot and no higher than the durable last index
    /// (those above it were cut off). An overwritten entry below it looks live too: such a segment
    /// waits for the group's next snapshot or a rewrite.
    /// </summary>
    internal bool Keeps(ulong maxIndex) => Math.Min(maxIndex, WrittenLastIndex) > Released;

    /// <summary>Queues entries and then (if not empty) the hard state, in that order: a hard state never lands without the entries it covers.</summary>
    public void Append(HardState hardState, IReadOnlyList<RaftEntry> entries) => _engine.Append(this, hardState, entries);

    /// <summary>Queues a snapshot position: <paramref name="installed"/> replaces the whole log, otherwise entries up to it are dropped.</summary>
    public void AppendSnapshot(ulong index, ulong term, bool installed) => _engine.AppendSnapshot(this, index, term, installed);

    /// <summary>Writes and fsyncs everything queued on the node's log, this group's and every other's.</summary>
    public void Sync() => _engine.Sync();

    /// <summary>A durable snapshot covers entries up to <paramref name="index"/>: segments nobody needs any more are deleted. Returns how many.</summary>
    public int ReleaseTo(ulong index) => _engine.Release(this, index);
}
