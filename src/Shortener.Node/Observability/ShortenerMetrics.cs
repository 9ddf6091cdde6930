using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Shortener.Node.Observability;

/// <summary>The node's own instruments (the HTTP server's request counts and latencies come from ASP.NET Core's meters).</summary>
public sealed class ShortenerMetrics : IDisposable
{
    public const string MeterName = "Shortener";

    public static readonly ActivitySource ActivitySource = new(MeterName);

    /// <summary>One redirect in this many has its latency recorded; the status counter counts every one.</summary>
    public const int RedirectLatencySampling = 16;

    private static readonly object[] StatusTags = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    private readonly Meter _meter;
    private readonly Counter<long> _linksCreated;
    private readonly Counter<long> _redirects;
    private readonly Histogram<double> _redirectDuration;
    private readonly Counter<long> _commands;
    private readonly Histogram<int> _commitBatch;
    private readonly Counter<long> _codeBlocksLeased;
    private long _redirectCount;

    public ShortenerMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _linksCreated = _meter.CreateCounter<long>("shortener.links.created", "{link}", "Links created");
        _redirects = _meter.CreateCounter<long>("shortener.redirects", "{redirect}", "Redirect requests answered, by HTTP status");
        _redirectDuration = _meter.CreateHistogram<double>(
            "shortener.redirect.duration",
            "s",
            "Time to answer a redirect request, by HTTP status; sampled, one redirect in 16 (redirects bypass http.server.request.duration)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _commands = _meter.CreateCounter<long>("shortener.commands", "{command}", "Link commands applied, by command and outcome");
        _commitBatch = _meter.CreateHistogram<int>(
            "shortener.storage.commit_batch_size",
            "{command}",
            "Commands committed together with one fsync",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _codeBlocksLeased = _meter.CreateCounter<long>("shortener.code_blocks.leased", "{block}", "Blocks of the code sequence leased by this node");
    }

    public void LinkCreated() => _linksCreated.Add(1);

    /// <summary>
    /// Counts a redirect request and, for one in <see cref="RedirectLatencySampling"/>, records how
    /// long it took since <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp).
    /// Recording a histogram costs more than the redirect's own lookup; a uniform sample keeps the
    /// latency distribution while the counter keeps the exact count.
    /// </summary>
    public void Redirect(int status, long startTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("status", StatusTags[status]);
        _redirects.Add(1, tag);
        if (Interlocked.Increment(ref _redirectCount) % RedirectLatencySampling == 0)
        {
            _redirectDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tag);
        }
    }

    public void Command(string command, string outcome) =>
        _commands.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("outcome", outcome));

    public void CommitBatch(int size) => _commitBatch.Record(size);

    public void CodeBlockLeased() => _codeBlocksLeased.Add(1);

    public void Dispose() => _meter.Dispose();
}
