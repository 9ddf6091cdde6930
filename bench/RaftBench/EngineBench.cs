using System.Diagnostics;
using System.Text;
using Shortener.Core.Replication;

namespace Shortener.Bench.Raft;

/// <summary>Replica drivers in one process with memory disks and a perfect network: what the engine and its driver cost by themselves.</summary>
public static class EngineBench
{
    public static BenchResult Run(int replicas, int entries, int depth)
    {
        var disks = Enumerable.Range(1, replicas).ToDictionary(i => (ulong)i, _ => (IRaftDisk)new MemoryRaftDisk());
        var cluster = new BenchCluster(disks);
        cluster.Campaign(1);
        var leader = cluster[1];
        cluster.ResetCounts();

        var latencies = new List<double>(entries);
        var committed = 0;
        var inFlight = 0;
        var payload = Encoding.UTF8.GetBytes(new string('p', 64));
        var clock = Stopwatch.StartNew();
        var proposed = 0;
        while (committed < entries)
        {
            // Top up the pipeline: proposals pile up until the next round, which carries them all.
            while (inFlight < depth && proposed < entries)
            {
                var at = Stopwatch.GetTimestamp();
                leader.Propose(payload, outcome =>
                {
                    if (outcome.Applied)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(at).TotalMicroseconds);
                        committed++;
                    }

                    inFlight--;
                });
                inFlight++;
                proposed++;
            }

            cluster.Pump();
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        var (rounds, written) = cluster.LeaderWrites;
        return new BenchResult(entries / elapsed, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)], rounds == 0 ? 0 : (double)written / rounds);
    }
}
