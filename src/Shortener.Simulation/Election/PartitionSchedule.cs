using Shortener.Core;

namespace Shortener.Simulation.Election;

/// <summary>From <see cref="StartMs"/> to <see cref="EndMs"/> of simulated time, no message crosses between the two sides.</summary>
public sealed record TimedSplit(long StartMs, long EndMs, IReadOnlyList<ulong> SideA, IReadOnlyList<ulong> SideB)
{
    public override string ToString() => $"{StartMs}-{EndMs} ms: [{string.Join(",", SideA)}] | [{string.Join(",", SideB)}]";
}

/// <summary>
/// The partitions one seed throws at a cluster, so that two algorithms can be run under exactly the
/// same ones: healthy stretches of 1-3 s and splits of 2-5 s into two sides of random sizes, the
/// highest node on either side (the bully algorithm's favourite) as chance has it.
/// </summary>
public static class PartitionSchedule
{
    public static IReadOnlyList<TimedSplit> Generate(ulong seed, int nodes, long durationMs)
    {
        var random = new SeededRandom(seed ^ 0x5EED_E1EC_7104UL);
        var ids = Enumerable.Range(1, nodes).Select(i => (ulong)i).ToList();
        var splits = new List<TimedSplit>();
        var at = 1_000L + random.Next(2_000);
        while (at < durationMs)
        {
            var end = Math.Min(durationMs, at + 2_000 + random.Next(3_000));
            var shuffled = ids.OrderBy(_ => random.NextUInt64()).ToList();
            var sizeA = 1 + random.Next(nodes - 1);
            splits.Add(new TimedSplit(at, end, [.. shuffled.Take(sizeA).Order()], [.. shuffled.Skip(sizeA).Order()]));
            at = end + 1_000 + random.Next(2_000);
        }

        return splits;
    }
}
