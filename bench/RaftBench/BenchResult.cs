namespace Shortener.Bench.Raft;

public sealed record BenchResult(double PerSecond, double P50Us, double P99Us, double EntriesPerReady);
