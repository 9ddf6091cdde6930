using System.Globalization;

namespace Shortener.Core.Changes;

/// <summary>
/// Where a change event stands: its shard, the Raft index of the entry that carried its command,
/// and the command's place in that entry (an entry may carry a batch). Events of one shard are
/// ordered by (index, position); shards are independent.
/// </summary>
public readonly record struct ChangeOffset(int Shard, ulong Index, int Position) : IComparable<ChangeOffset>
{
    public int CompareTo(ChangeOffset other) =>
        Shard != other.Shard ? Shard.CompareTo(other.Shard)
        : Index != other.Index ? Index.CompareTo(other.Index)
        : Position.CompareTo(other.Position);

    /// <summary>The event id: the same whoever delivers the event and however often.</summary>
    public string Id => string.Create(CultureInfo.InvariantCulture, $"links-{Shard}-{Index}-{Position}");
}
