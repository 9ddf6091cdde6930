using System.Diagnostics;
using System.Text;
using Shortener.Core;
using Shortener.Core.Raft;

namespace Shortener.Bench.Raft;

/// <summary>Replicas in one process with in-memory storage and a perfect network: what the engine costs by itself.</summary>
public static class EngineBench
{
    public static BenchResult Run(int replicas, int entries, int depth)
    {
        var ids = Enumerable.Range(1, replicas).Select(i => (ulong)i).ToArray();
        var nodes = new Dictionary<ulong, (RaftNode Node, MemoryRaftStorage Storage)>();
        foreach (var id in ids)
        {
            var storage = new MemoryRaftStorage();
            storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(ids)), []));
            storage.SetHardState(new HardState(1, 0, 1));
            nodes[id] = (new RaftNode(new RaftConfig { Id = id, Random = new SeededRandom(id), MaxInflightMessages = 1024 }, storage), storage);
        }

        var queue = new Queue<RaftMessage>();
        var leader = nodes[1].Node;
        leader.Campaign();
        var readies = 0L;
        var readyEntries = 0L;
        void Pump()
        {
            bool moved;
            do
            {
                moved = false;
                foreach (var (_, (node, storage)) in nodes)
                {
                    while (node.HasReady)
                    {
                        moved = true;
                        var ready = node.GetReady();
                        storage.Append(ready.Entries);
                        if (!ready.HardState.IsEmpty)
                        {
                            storage.SetHardState(ready.HardState);
                        }

                        if (node == leader && ready.Entries.Count > 0)
                        {
                            readies++;
                            readyEntries += ready.Entries.Count;
                        }

                        foreach (var m in ready.Messages)
                        {
                            queue.Enqueue(m);
                        }

                        if (node == leader)
                        {
                            foreach (var e in ready.CommittedEntries)
                            {
                                Committed(e.Index);
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

        var proposedAt = new Dictionary<ulong, long>();
        var latencies = new List<double>(entries);
        var committed = 0;
        void Committed(ulong index)
        {
            if (proposedAt.Remove(index, out var at))
            {
                latencies.Add(Stopwatch.GetElapsedTime(at).TotalMicroseconds);
                committed++;
            }
        }

        Pump();
        readies = 0;
        readyEntries = 0;
        var payload = Encoding.UTF8.GetBytes(new string('p', 64));
        var clock = Stopwatch.StartNew();
        var proposed = 0;
        while (committed < entries)
        {
            // Top up the pipeline: proposals pile up until the next Ready, which carries them all.
            while (proposedAt.Count < depth && proposed < entries)
            {
                var result = leader.Propose(payload);
                proposedAt[result.Index] = Stopwatch.GetTimestamp();
                proposed++;
            }

            Pump();
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        return new BenchResult(entries / elapsed, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)], readies == 0 ? 0 : (double)readyEntries / readies);
    }
}
