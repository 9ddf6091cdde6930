using System.Collections.Concurrent;
using Shortener.Node.Api;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Asks every node for its view of the cluster twice a second for the whole run and keeps what
/// each said of each shard: the evidence for who led, in which term, second by second. A node
/// that does not answer in time leaves a gap, not a guess; the others are asked all the same.
/// </summary>
public sealed class LeaderSampler(ScenarioClient client)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentQueue<LeaderSample> _samples = new();

    public IReadOnlyCollection<LeaderSample> Samples => _samples;

    /// <summary>One round now: every node asked at once.</summary>
    public Task SampleAsync(CancellationToken cancellationToken) => Task.WhenAll(client.Nodes.Select(node => SampleAsync(node, cancellationToken)));

    /// <summary>Every node asked on its own rhythm (<see cref="NodePoller"/>) until <paramref name="stop"/>.</summary>
    public Task RunAsync(CancellationToken stop) => NodePoller.RunAsync(client, Interval, node => SampleAsync(node, CancellationToken.None), stop);

    // Stamped when the answer came: a frozen node answers, when it wakes, with what it believes then.
    private async Task SampleAsync(ulong node, CancellationToken cancellationToken)
    {
        if (await client.GetJsonAsync<ClusterView>(node, "/admin/v1/cluster", cancellationToken) is { } view)
        {
            var at = client.NowMs;
            foreach (var shard in view.Shards)
            {
                _samples.Enqueue(new LeaderSample(at, node, shard.Shard, shard.Role, shard.Term, shard.Leader));
            }
        }
    }
}
