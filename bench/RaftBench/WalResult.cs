namespace Shortener.Bench.Raft;

public sealed record WalResult(double CommitsPerSecond, double FsyncsPerSecond, double EntriesPerLeaderFsync, double P50Ms, double P99Ms);
