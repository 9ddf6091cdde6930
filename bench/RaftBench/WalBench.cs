using System.Diagnostics;
using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;
using Shortener.Storage.Raft;

namespace Shortener.Bench.Raft;

/// <summary>
/// Three replicas, each with its own WAL on the real disk, driven by one Ready loop; proposers each
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
        ulong[] ids = [1, 2, 3];
        var nodes = new Dictionary<ulong, (RaftNode Node, DurableRaftStorage Storage)>();
        foreach (var id in ids)
        {
            var storage = DurableRaftStorage.Open(Path.Combine(dir, $"n{id}"));
            storage.Persist(new Ready { Snapshot = new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(ids)), []), HardState = new HardState(1, 0, 1), MustSync = true });
            nodes[id] = (new RaftNode(new RaftConfig { Id = id, Random = new SeededRandom(id), MaxInflightMessages = 1024 }, storage.Memory), storage);
        }

        try
        {
            var leader = nodes[1].Node;
            var queue = new Queue<RaftMessage>();
            var outstanding = new Dictionary<ulong, long>();
            var latencies = new List<double>();
            var leaderFsyncs = 0L;
            var leaderEntries = 0L;
            var commits = 0L;
            var measuring = false;

            void Pump()
            {
                bool moved;
                do
                {
                    moved = false;
                    foreach (var (id, (node, storage)) in nodes)
                    {
                        while (node.HasReady)
                        {
                            moved = true;
                            var ready = node.GetReady();
                            storage.Persist(ready);
                            if (id == 1 && ready.MustSync && measuring)
                            {
                                leaderFsyncs++;
                                leaderEntries += ready.Entries.Count;
                            }

                            foreach (var m in ready.Messages)
                            {
                                queue.Enqueue(m);
                            }

                            if (id == 1)
                            {
                                foreach (var e in ready.CommittedEntries)
                                {
                                    if (outstanding.Remove(e.Index, out var at) && measuring)
                                    {
                                        latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
                                        commits++;
                                    }
                                }
                            }

                            node.Advance(ready);
                        }
                    }

                    while (queue.TryDequeue(out var m))
                    {
                        moved = true;
                        nodes[m.To].Node.Step(m);
                    }
                }
                while (moved);
            }

            leader.Campaign();
            Pump();
            var payload = Encoding.UTF8.GetBytes(new string('w', 100));
            var syncsBefore = nodes.Values.Sum(n => n.Storage.Wal.Syncs);
            measuring = true;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                // Every proposer whose last proposal committed proposes again; they all ride the next fsync.
                while (outstanding.Count < proposers)
                {
                    var result = leader.Propose(payload);
                    outstanding[result.Index] = Stopwatch.GetTimestamp();
                }

                Pump();
            }

            var elapsed = clock.Elapsed.TotalSeconds;
            var fsyncs = nodes.Values.Sum(n => n.Storage.Wal.Syncs) - syncsBefore;
            latencies.Sort();
            return new WalResult(
                commits / elapsed,
                fsyncs / elapsed,
                leaderFsyncs == 0 ? 0 : (double)leaderEntries / leaderFsyncs,
                latencies.Count == 0 ? 0 : latencies[latencies.Count / 2],
                latencies.Count == 0 ? 0 : latencies[(int)(latencies.Count * 0.99)]);
        }
        finally
        {
            foreach (var n in nodes.Values)
            {
                n.Storage.Dispose();
            }
        }
    }
}
