namespace Shortener.Cli.Scenarios;

/// <summary>What one node said of one shard at one moment (ms since the scenario started): its role, term and the leader it knows.</summary>
public sealed record LeaderSample(long AtMs, ulong Node, int Shard, string Role, ulong Term, ulong Leader)
{
    public bool IsLeader => Role == "leader";

    /// <summary>Per shard, the sample of the node that said it led in the highest term (the latest such).</summary>
    public static IEnumerable<LeaderSample> LeadersByShard(IEnumerable<LeaderSample> samples) =>
        samples.Where(s => s.IsLeader).GroupBy(s => s.Shard).Select(g => g.MaxBy(s => (s.Term, s.AtMs))!);
}
