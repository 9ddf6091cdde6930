using System.Diagnostics;
using System.Text;
using Shortener.Core.Replication;
using Shortener.Storage.Raft;

namespace Shortener.Bench.Raft;

/// <summary>
/// Three replica drivers, each with its own WAL on the real disk, pumped together; proposers each
/// keep one proposal outstanding (a closed loop), so 256 proposers show how far group commit stretches one fsync.
/// </summary>
public static class WalBench
{
    public static double RawFsyncs(string path, double seconds)
    {
        var block = new byte[128];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        var clock = Stopwatch.StartNew();
        var n = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            file.Write(block);
            file.Flush(flushToDisk: true);
            n++;
        }

        return n / clock.Elapsed.TotalSeconds;
    }

    public static WalResult Run(string dir, int proposers, double seconds)
    {
        var engines = new Dictionary<ulong, RaftLogEngine>();
        var storages = new Dictionary<ulong, DurableRaftStorage>();
        try
        {
            foreach (var id in new ulong[] { 1, 2, 3 })
            {
                engines[id] = RaftLogEngine.Open(Path.Combine(dir, $"n{id}", "raft-log"));
                storages[id] = DurableRaftStorage.Open(engines[id].Group(0), Path.Combine(dir, $"n{id}", "snap"));
            }

            var cluster = new BenchCluster(storages.ToDictionary(s => s.Key, s => (IRaftDisk)s.Value));
            cluster.Campaign(1);
            var leader = cluster[1];
            var latencies = new List<double>();
            var commits = 0L;
            var outstanding = 0;
            var measuring = false;
            var payload = Encoding.UTF8.GetBytes(new string('w', 100));
            var syncsBefore = engines.Values.Sum(e => e.Syncs);
            cluster.ResetCounts();
            measuring = true;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                // Every proposer whose last proposal committed proposes again; they all ride the next fsync.
                while (outstanding < proposers)
                {
                    var at = Stopwatch.GetTimestamp();
                    leader.Propose(payload, outcome =>
                    {
                        outstanding--;
                        if (outcome.Applied && measuring)
                        {
                            latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
                            commits++;
                        }
                    });
                    outstanding++;
                }

                cluster.Pump();
            }

            var elapsed = clock.Elapsed.TotalSeconds;
            var fsyncs = engines.Values.Sum(e => e.Syncs) - syncsBefore;
            var (rounds, entries) = cluster.LeaderWrites;
            latencies.Sort();
            return new WalResult(
                commits / elapsed,
                fsyncs / elapsed,
                rounds == 0 ? 0 : (double)entries / rounds,
                latencies.Count == 0 ? 0 : latencies[latencies.Count / 2],
                latencies.Count == 0 ? 0 : latencies[(int)(latencies.Count * 0.99)]);
        }
        finally
        {
            foreach (var storage in storages.Values)
            {
                storage.Dispose();
            }

            foreach (var engine in engines.Values)
            {
                engine.Dispose();
            }
        }
    }
}
