namespace Shortener.Core.Clicks;

/// <summary>
/// The end of one operation a caller started on <see cref="ClickNode"/> (a write, a read or a
/// summary): whether it reached its consistency level, and what it read. <see cref="Error"/> says
/// why it failed.
/// </summary>
public sealed record ClickCompletion(ulong Op, bool Ok, string? Error)
{
    public ClickStats? Stats { get; init; }

    public ClickSummary? Summary { get; init; }

    /// <summary>A read: whether its replicas disagreed and were repaired.</summary>
    public bool Repaired { get; init; }
}
