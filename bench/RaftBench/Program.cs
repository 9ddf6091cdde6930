using System.Diagnostics;
using System.Globalization;
using Shortener.Bench.Raft;

// bench/raft.sh drives this:
//   engine [--entries N] [--depth D]       3 replicas vs 1, in memory: committed entries/s and latency
//   wal [--seconds S] [--dir DIR]          3 replicas on disk, 1/16/256 proposers vs raw fsync
var mode = args.FirstOrDefault() ?? "engine";
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

var inv = CultureInfo.InvariantCulture;
switch (mode)
{
    case "engine":
    {
        var entries = int.Parse(Arg("--entries", "300000"), inv);
        var depth = int.Parse(Arg("--depth", "256"), inv);
        Console.WriteLine($"Raft engine in memory, {entries} entries of 64 B, {depth} proposals in flight, batching on");
        EngineBench.Run(1, entries / 10, depth); // warm-up
        var one = EngineBench.Run(1, entries, depth);
        var three = EngineBench.Run(3, entries, depth);
        var threeSerial = EngineBench.Run(3, entries / 10, 1);
        Console.WriteLine($"{"replicas",-22} {"entries/s",12} {"p50 µs",9} {"p99 µs",9} {"entries/round",14}");
        foreach (var (name, r) in new[] { ("1 (baseline)", one), ("3", three), ("3, one at a time", threeSerial) })
        {
            Console.WriteLine(string.Create(inv, $"{name,-22} {r.PerSecond,12:F0} {r.P50Us,9:F1} {r.P99Us,9:F1} {r.EntriesPerReady,14:F1}"));
        }

        Console.WriteLine(string.Create(inv, $"ratio 3 replicas / 1 replica: {three.PerSecond / one.PerSecond:F3}"));
        break;
    }

    case "wal":
    {
        var seconds = double.Parse(Arg("--seconds", "5"), inv);
        var dir = Arg("--dir", Path.Combine(Path.GetTempPath(), "shortener-raft-bench-" + Environment.ProcessId));
        Directory.CreateDirectory(dir);
        try
        {
            var raw = WalBench.RawFsyncs(Path.Combine(dir, "raw.bin"), seconds);
            Console.WriteLine(string.Create(inv, $"raw disk: {raw:F0} write+fsync per second (128 B appends to one file) in {dir}"));
            Console.WriteLine($"{"proposers",10} {"commits/s",11} {"fsyncs/s",10} {"entries/fsync",14} {"p50 ms",8} {"p99 ms",8} {"commits/raw fsync",18}");
            foreach (var proposers in new[] { 1, 16, 256 })
            {
                var r = WalBench.Run(Path.Combine(dir, $"p{proposers}"), proposers, seconds);
                Console.WriteLine(string.Create(inv, $"{proposers,10} {r.CommitsPerSecond,11:F0} {r.FsyncsPerSecond,10:F0} {r.EntriesPerLeaderFsync,14:F1} {r.P50Ms,8:F2} {r.P99Ms,8:F2} {r.CommitsPerSecond / raw,18:F2}"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        break;
    }

    default:
        Console.Error.WriteLine("usage: RaftBench engine|wal [options]");
        return 2;
}

return 0;
