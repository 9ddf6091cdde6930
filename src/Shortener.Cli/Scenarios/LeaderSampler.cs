using System.Collections.Concurrent;
using Shortener.Node.Api;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Asks every node for its view of the cluster twice a second for the whole run and keeps what
/// each said of each shard: the evidence for who led, in which term, second by second. A node
/// that does not answer in time leaves a gap, not a guess.
/// </summary>
public sealed class LeaderSampler(ScenarioClient client)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentQueue<LeaderSample> _samples = new();

    public IReadOnlyCollection<LeaderSample> Samples => _samples;

    /// <summary>One round now: every node asked at once.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(client.Nodes.Select(async node =>
        {
            var at = client.NowMs;
            if (await client.GetJsonAsync<ClusterView>(node, "/admin/v1/cluster", cancellationToken) is { } view)
            {
                foreach (var shard in view.Shards)
                {
                    _samples.Enqueue(new LeaderSample(at, node, shard.Shard, shard.Role, shard.Term, shard.Leader));
                }
            }
        }));
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var round = SampleAsync(CancellationToken.None);
            try
            {
                await Task.WhenAll(round, Task.Delay(Interval, stop));
            }
            catch (OperationCanceledException)
            {
                await round;
                return;
            }
        }
    }
}
