using Shortener.Core.Clicks;
using Shortener.Storage.Clicks;

namespace Shortener.Node.Clicks;

/// <summary>
/// The hint queues as <see cref="ClickNode"/> sees them, stamped with wall time. The click store's
/// state machines run on a monotonic clock (a clock stepped back must not freeze their timeouts),
/// which starts anew with the process; hints outlive it, so their stamps and expiry use the wall
/// clock instead of the time the state machine passes.
/// </summary>
public sealed class WallClockHints(HintedHandoffQueue queue, TimeProvider wall) : IHintStore
{
    public IReadOnlyList<ulong> Owners => queue.Owners;

    public long Count => queue.Count;

    public void Add(ulong owner, IReadOnlyList<ClickEvent> clicks, long nowMs) => queue.Add(owner, clicks, Now);

    public IReadOnlyList<(long Position, ClickEvent Click)> Pending(ulong owner, int max) => queue.Pending(owner, max);

    public void Delivered(ulong owner, long position) => queue.Delivered(owner, position);

    public long Expire(long nowMs, long windowMs) => queue.Expire(Now, windowMs);

    private long Now => wall.GetUtcNow().ToUnixTimeMilliseconds();
}
