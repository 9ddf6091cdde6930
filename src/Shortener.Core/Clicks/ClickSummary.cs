namespace Shortener.Core.Clicks;

/// <summary>
/// Clicks over the whole cluster in a range of days: each ring range counted once (from the
/// replica that holds most of it), and the links with the most clicks. <see cref="Answered"/> of
/// <see cref="Asked"/> nodes took part; a range none of them replicates is missing from the sum.
/// </summary>
public sealed record ClickSummary(long Total, long Human, long Bots, IReadOnlyList<ClickTotals> TopLinks, int Answered, int Asked, int RangesCovered, int Ranges);
