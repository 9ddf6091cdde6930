using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Node.Shards;

namespace Shortener.Node.Sinks;

/// <summary>
/// Runs a <see cref="ShardDeliverer"/> for every sink and every shard on this node (each delivers
/// only while its shard is led here and it holds the lease), following the sink list: a sink added
/// starts, a sink removed stops and hands over. Writes never wait on it: a sink that is down only
/// lags.
/// </summary>
public sealed class SinkDeliveryService(
    ShardHost shards,
    SinkRegistry registry,
    SinkWriterFactory writers,
    SinkOptions options,
    SinkMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<SinkDeliveryService>();
    private readonly Dictionary<(string Name, long CreatedAt), Running> _running = [];
    private readonly object _gate = new();

    private sealed record Running(ISinkWriter Writer, CancellationTokenSource Stop, IReadOnlyList<ShardDeliverer> Deliverers, Task All);

    /// <summary>What this node's deliverers are doing now.</summary>
    public IReadOnlyList<DelivererView> Views
    {
        get
        {
            lock (_gate)
            {
                return [.. _running.Values.SelectMany(r => r.Deliverers).Select(d => d.View)];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await FollowAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(shards.Options.TickMs * 2), time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        List<(string, long)> all;
        lock (_gate)
        {
            all = [.. _running.Keys];
        }

        foreach (var key in all)
        {
            await StopAsync(key).ConfigureAwait(false);
        }
    }

    private async Task FollowAsync(CancellationToken stoppingToken)
    {
        var sinks = registry.Current.List.Sinks;
        var wanted = sinks.ToDictionary(s => (s.Name, s.CreatedAt));
        List<(string, long)> gone;
        lock (_gate)
        {
            gone = [.. _running.Keys.Where(k => !wanted.ContainsKey(k))];
        }

        foreach (var key in gone)
        {
            await StopAsync(key).ConfigureAwait(false);
        }

        foreach (var (key, sink) in wanted)
        {
            lock (_gate)
            {
                if (_running.ContainsKey(key))
                {
                    continue;
                }

                var writer = writers.Create(sink);
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var deliverers = shards.Replicas
                    .Select(replica => new ShardDeliverer(sink, replica, shards, writer, options, shards.Options.NodeId, time, metrics, _logger))
                    .ToArray();
                var all = Task.WhenAll(deliverers.Select(d => Task.Run(() => d.RunAsync(stop.Token), CancellationToken.None)));
                _running[key] = new Running(writer, stop, deliverers, all);
                _logger.LogInformation("Sink {Sink} ({Kind}): deliverers started for {Shards} shards", sink.Name, sink.Kind, deliverers.Length);
            }
        }
    }

    private async Task StopAsync((string Name, long CreatedAt) key)
    {
        Running? running;
        lock (_gate)
        {
            _running.Remove(key, out running);
        }

        if (running is null)
        {
            return;
        }

        await running.Stop.CancelAsync().ConfigureAwait(false);
        await running.All.ConfigureAwait(false);
        await running.Writer.DisposeAsync().ConfigureAwait(false);
        running.Stop.Dispose();
        _logger.LogInformation("Sink {Sink}: deliverers stopped", key.Name);
    }
}
