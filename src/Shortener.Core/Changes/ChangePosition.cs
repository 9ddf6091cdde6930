using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Shortener.Core.Changes;

/// <summary>
/// A consumer's place in the change feed: the last offset it has of each shard it has seen
/// (<c>0:1200.0,3:877.2</c>). A shard it has not seen is read from its oldest retained event.
/// </summary>
public sealed class ChangePosition
{
    /// <summary>More shards than any cluster has: a longer position is not one this feed handed out.</summary>
    public const int MaxShards = 4096;

    private ChangePosition(ImmutableSortedDictionary<int, ChangeOffset> last) => Last = last;

    public static ChangePosition Start { get; } = new(ImmutableSortedDictionary<int, ChangeOffset>.Empty);

    public ImmutableSortedDictionary<int, ChangeOffset> Last { get; }

    /// <summary>The last offset of <paramref name="shard"/> this position has, or null: start at the oldest.</summary>
    public ChangeOffset? Of(int shard) => Last.TryGetValue(shard, out var offset) ? offset : null;

    /// <summary>The position after <paramref name="offset"/> (which must be later than what it holds of that shard).</summary>
    public ChangePosition After(ChangeOffset offset) =>
        Of(offset.Shard) is { } held && held.CompareTo(offset) >= 0
            ? throw new ArgumentException($"{offset.Id} is not after {held.Id}", nameof(offset))
            : new ChangePosition(Last.SetItem(offset.Shard, offset));

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (shard, offset) in Last)
        {
            text.Append(text.Length == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture, $"{shard}:{offset.Index}.{offset.Position}");
        }

        return text.ToString();
    }

    /// <summary>Reads a position as <see cref="ToString"/> writes it (empty: the start); null when it is not one.</summary>
    public static ChangePosition? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Start;
        }

        var last = ImmutableSortedDictionary.CreateBuilder<int, ChangeOffset>();
        foreach (var part in text.Split(','))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            var dot = part.IndexOf('.', colon + 1);
            if (colon <= 0 || dot <= colon + 1
                || !int.TryParse(part.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
                || !ulong.TryParse(part.AsSpan(colon + 1, dot - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || !int.TryParse(part.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var position)
                || shard >= MaxShards
                || !last.TryAdd(shard, new ChangeOffset(shard, index, position)))
            {
                return null;
            }
        }

        return new ChangePosition(last.ToImmutable());
    }
}
