using System.Diagnostics.Metrics;
using Shortener.Node.Observability;

namespace Shortener.Node.Sinks;

/// <summary>What the sinks' deliverers did on this node, by sink.</summary>
public sealed class SinkMetrics
{
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _fenced;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _leases;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _latency;

    public SinkMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ShortenerMetrics.MeterName);
        _delivered = meter.CreateCounter<long>("shortener.sink.events.delivered", "{event}", "Events a sink took that it did not have yet");
        _fenced = meter.CreateCounter<long>("shortener.sink.writes.fenced", "{write}", "Writes a sink refused for a stale fencing token (a deposed deliverer)");
        _errors = meter.CreateCounter<long>("shortener.sink.writes.failed", "{write}", "Writes that failed and will be retried");
        _deadLettered = meter.CreateCounter<long>("shortener.sink.events.dead_lettered", "{event}", "Events given up on after the retry bound, or purged before delivery");
        _calls = meter.CreateCounter<long>("shortener.sink.calls", "{call}", "Calls made to a sink (a Redis call carries the batches of every shard this node delivers that were ready)");
        _leases = meter.CreateCounter<long>("shortener.sink.leases.taken", "{lease}", "Shard leases this node took for a sink (a new token)");
        _latency = meter.CreateHistogram<double>(
            "shortener.sink.delivery.latency",
            "ms",
            "From a change's command time to the sink taking it",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1_000, 5_000, 30_000] });
    }

    public void Delivered(string sink, int added, IEnumerable<long> latenciesMs)
    {
        var tag = new KeyValuePair<string, object?>("sink", sink);
        _delivered.Add(added, tag);
        foreach (var latency in latenciesMs)
        {
            _latency.Record(Math.Max(0, latency), tag);
        }
    }

    public void Fenced(string sink) => _fenced.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void Failed(string sink) => _errors.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void DeadLettered(string sink, int events) => _deadLettered.Add(events, new KeyValuePair<string, object?>("sink", sink));

    public void Called(string sink) => _calls.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void LeaseTaken(string sink) => _leases.Add(1, new KeyValuePair<string, object?>("sink", sink));
}
