using System.Globalization;
using Shortener.Core;

namespace Shortener.Simulation.Commit;

/// <summary>A node down from <paramref name="AtMs"/> until <paramref name="UntilMs"/> (null: for good).</summary>
public sealed record NodeCrash(int Node, long AtMs, long? UntilMs);

/// <summary>The nodes of <paramref name="Side"/> cut off from the others from <paramref name="AtMs"/> to <paramref name="UntilMs"/>.</summary>
public sealed record NodeSplit(IReadOnlySet<int> Side, long AtMs, long UntilMs);

/// <summary>
/// One seed's faults, the same for every protocol: maybe a crash of the coordinator (node 0; for
/// good, sometimes), maybe a crash and restart of a participant (nodes 1–3), maybe a partition.
/// All of them fall within <see cref="FaultWindowMs"/>, while transactions run.
/// </summary>
public sealed record CommitFaultPlan(IReadOnlyList<NodeCrash> Crashes, NodeSplit? Split)
{
    public const long FaultWindowMs = 650;

    public static CommitFaultPlan Generate(ulong seed)
    {
        var random = new SeededRandom(seed ^ 0x5eed_c0_3317);
        var crashes = new List<NodeCrash>();
        if (random.Chance(0.5))
        {
            var at = random.Next((int)FaultWindowMs);
            crashes.Add(new NodeCrash(0, at, random.Chance(0.4) ? null : at + random.Next(20, 300)));
        }

        if (random.Chance(0.5))
        {
            var at = random.Next((int)FaultWindowMs);
            crashes.Add(new NodeCrash(random.Next(1, 4), at, at + random.Next(20, 300)));
        }

        NodeSplit? split = null;
        if (random.Chance(0.5))
        {
            // A proper, non-empty subset of the four nodes: 1..14 as a bit mask.
            var mask = random.Next(1, 15);
            var side = Enumerable.Range(0, 4).Where(n => (mask & (1 << n)) != 0).ToHashSet();
            var at = random.Next((int)FaultWindowMs);
            split = new NodeSplit(side, at, at + random.Next(30, 300));
        }

        return new CommitFaultPlan(crashes, split);
    }

    public override string ToString()
    {
        var parts = Crashes.Select(c => string.Create(CultureInfo.InvariantCulture, $"node {c.Node} down {c.AtMs}-{(c.UntilMs is { } until ? until.ToString(CultureInfo.InvariantCulture) : "end")} ms")).ToList();
        if (Split is { } s)
        {
            var other = Enumerable.Range(0, 4).Where(n => !s.Side.Contains(n));
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"partition {{{string.Join(",", s.Side.Order())}}}|{{{string.Join(",", other)}}} {s.AtMs}-{s.UntilMs} ms"));
        }

        return parts.Count == 0 ? "no faults" : string.Join("; ", parts);
    }
}
