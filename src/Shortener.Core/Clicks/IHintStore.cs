namespace Shortener.Core.Clicks;

/// <summary>
/// Hinted handoff as <see cref="ClickNode"/> uses it: clicks this node keeps for a replica that
/// could not take them, durable when <see cref="Add"/> returns, replayed oldest first.
/// </summary>
public interface IHintStore
{
    void Add(ulong owner, IReadOnlyList<ClickEvent> clicks, long nowMs);

    /// <summary>Owners with hints waiting.</summary>
    IReadOnlyList<ulong> Owners { get; }

    /// <summary>Hints waiting, over all owners.</summary>
    long Count { get; }

    /// <summary>Up to <paramref name="max"/> of the owner's hints, oldest first, each with its position for <see cref="Delivered"/>.</summary>
    IReadOnlyList<(long Position, ClickEvent Click)> Pending(ulong owner, int max);

    /// <summary>The owner stored every hint up to <paramref name="position"/>.</summary>
    void Delivered(ulong owner, long position);

    /// <summary>Drops hints stored before <paramref name="nowMs"/> − <paramref name="windowMs"/>; returns how many.</summary>
    long Expire(long nowMs, long windowMs);
}
