using System.Diagnostics;
using System.Globalization;
using Shortener.Core;
using Shortener.Core.Clicks;
using Shortener.Core.Clocks;
using Shortener.Core.Quorum;
using Shortener.Storage.Clicks;

// Click store ingest, in one run on this machine:
//   store   clicks/s into one ClickStore (SQLite on disk) in batches: the baseline, ratio 1.00;
//   quorum  clicks/s written through ClickNode at QUORUM to three replicas, each with its own
//           ClickStore on disk, messages passed in process (the protocol and three stores; no
//           network), as a ratio to the baseline: the ideal is about 1/3 (three copies of each click);
//   seal    clicks/s that ClickStore.Seal folds into sealed days (per-origin counters) and deletes,
//           as a ratio to the baseline, and the bytes the database uses per click before and after.
// Usage: ClickBench [--clicks 200000] [--batch 500] [--codes 10000] [--rounds 3]
var clicks = Arg("--clicks", 200_000);
var batch = Arg("--batch", 500);
var codes = Arg("--codes", 10_000);
var rounds = Arg("--rounds", 3);
var random = new SeededRandom(42);
var baseline = new List<double>();
var quorum = new List<double>();
var seal = new List<double>();
var (bytesBefore, bytesAfter) = (0.0, 0.0);
for (var round = 1; round <= rounds; round++)
{
    var root = Path.Combine(Path.GetTempPath(), "clickbench-" + Guid.NewGuid().ToString("N"));
    try
    {
        var events = Make(clicks);
        baseline.Add(Store(Path.Combine(root, "single"), events, batch, out var sealRate, out bytesBefore, out bytesAfter));
        seal.Add(sealRate);
        quorum.Add(Quorum(Path.Combine(root, "three"), events, batch));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: one store {baseline[^1]:N0} clicks/s, three replicas at QUORUM {quorum[^1]:N0} clicks/s, ratio {quorum[^1] / baseline[^1]:F3}; sealed {seal[^1]:N0} clicks/s, ratio {seal[^1] / baseline[^1]:F3}, {bytesBefore:F0} bytes a click before, {bytesAfter:F1} after"));
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
}

var b = Median(baseline);
var q = Median(quorum);
var z = Median(seal);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT store {b:F0} quorum {q:F0} ratio {q / b:F3} (median of {rounds} rounds, {clicks:N0} clicks over {codes:N0} links, batches of {batch})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT seal {z:F0} ratio {z / b:F3}; database {bytesBefore:F0} bytes a click before sealing, {bytesAfter:F1} after (last round)"));
return 0;

List<ClickEvent> Make(int count)
{
    var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    return Enumerable.Range(0, count).Select(i => new ClickEvent(
        Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(now + i)),
        "c" + random.Next(codes).ToString(CultureInfo.InvariantCulture),
        now + i,
        new HlcTimestamp(now + i, 0),
        random.Chance(0.1) ? ClickKind.Bot : ClickKind.Human,
        random.Chance(0.3) ? "news.example" : null,
        null) { Origin = (ulong)random.Next(1, 4) }).ToList();
}

// Ingest into one store; then every day sealed (the clicks are today's: sealing "before tomorrow"
// takes them all), timed the same way, and the bytes the database uses per click before and after.
static double Store(string dir, List<ClickEvent> events, int batch, out double sealRate, out double bytesBefore, out double bytesAfter)
{
    var path = Path.Combine(dir, "clicks.db");
    double rate;
    using (var store = ClickStore.Open(path))
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < events.Count; i += batch)
        {
            store.Add(events.GetRange(i, Math.Min(batch, events.Count - i)));
        }

        rate = events.Count / watch.Elapsed.TotalSeconds;
        bytesBefore = (double)UsedBytes(path) / events.Count;
        watch.Restart();
        var folded = 0;
        for (int pass; (pass = store.Seal(events.Max(e => e.Day) + 1, replica: 1, maxClicks: 20_000)) > 0;)
        {
            folded += pass;
        }

        sealRate = folded / watch.Elapsed.TotalSeconds;
        if (folded != events.Count || store.Count != events.Count)
        {
            throw new InvalidOperationException($"sealed {folded} of {events.Count} clicks; the store counts {store.Count}");
        }

        bytesAfter = (double)UsedBytes(path) / events.Count;
    }

    return rate;
}

// Pages in use (the file keeps freed pages for reuse), after a checkpoint.
static long UsedBytes(string path)
{
    using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())";
    using var reader = command.ExecuteReader();
    reader.NextResult();
    reader.Read();
    var pages = reader.GetInt64(0);
    using var size = connection.CreateCommand();
    size.CommandText = "PRAGMA page_size";
    return pages * (long)size.ExecuteScalar()!;
}

static double Quorum(string dir, List<ClickEvent> events, int batch)
{
    var ring = new HashRing(Enumerable.Range(1, 3).Select(i => new RingNode((ulong)i, $"dc{i}", HashRing.TokensFor((ulong)i))));
    var stores = Enumerable.Range(1, 3).Select(i => ClickStore.Open(Path.Combine(dir, $"n{i}", "clicks.db"))).ToList();
    var hints = Enumerable.Range(1, 3).Select(i => HintedHandoffQueue.Open(Path.Combine(dir, $"n{i}", "hints"))).ToList();
    var nodes = Enumerable.Range(0, 3).Select(i => new ClickNode((ulong)i + 1, $"dc{i + 1}", new ClickSettings { AntiEntropyIntervalMs = long.MaxValue / 4 }, stores[i], hints[i], _ => true, new SeededRandom((ulong)i), 0)).ToList();
    nodes.ForEach(n => n.SetRing(ring));
    try
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < events.Count; i += batch)
        {
            var coordinator = nodes[(i / batch) % 3];
            var op = coordinator.Write(events.GetRange(i, Math.Min(batch, events.Count - i)), ConsistencyLevel.Quorum);
            var done = false;
            while (!done)
            {
                var moved = false;
                foreach (var node in nodes)
                {
                    foreach (var message in node.TakeMessages())
                    {
                        nodes[(int)message.To - 1].Step(ClickMessageCodec.Decode(ClickMessageCodec.Encode(message)));
                        moved = true;
                    }

                    done |= node.TakeCompletions().Any(c => c.Op == op && (c.Ok ? true : throw new InvalidOperationException(c.Error)));
                }

                if (!moved && !done)
                {
                    throw new InvalidOperationException("the write stalled");
                }
            }
        }

        // The third copy of the last batch lands after the quorum answered: drain it too.
        foreach (var node in nodes)
        {
            foreach (var message in node.TakeMessages())
            {
                nodes[(int)message.To - 1].Step(message);
            }
        }

        return events.Count / watch.Elapsed.TotalSeconds;
    }
    finally
    {
        stores.ForEach(s => s.Dispose());
        hints.ForEach(h => h.Dispose());
    }
}

int Arg(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
