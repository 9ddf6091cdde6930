namespace Shortener.Cli.Scenarios;

/// <summary>What one node said of one shard at one moment (ms since the scenario started): its role, term and the leader it knows.</summary>
public sealed record LeaderSample(long AtMs, ulong Node, int Shard, string Role, ulong Term, ulong Leader)
{
    public bool IsLeader => Role == "leader";
}
