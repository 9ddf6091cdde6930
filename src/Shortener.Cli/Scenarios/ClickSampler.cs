using System.Collections.Concurrent;
using Shortener.Node.Api;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// Asks every node once a second for the click totals of the hot links, each node answering from
/// what one replica holds (consistency=one), so the report can show the two sides counting apart
/// during the cut and converging after the heal.
/// </summary>
public sealed class ClickSampler(ScenarioClient client, IReadOnlyList<string> hotLinks)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentQueue<ClickSample> _samples = new();

    public IReadOnlyCollection<ClickSample> Samples => _samples;

    public Task RunAsync(CancellationToken stop) => NodePoller.RunAsync(client, Interval, SampleAsync, stop);

    // Stamped when the answers came, as the leader samples are.
    private async Task SampleAsync(ulong node)
    {
        long total = 0;
        foreach (var code in hotLinks)
        {
            var stats = await client.GetJsonAsync<ClickStatsResponse>(node, $"/api/v1/links/{code}/stats?consistency=one", CancellationToken.None);
            if (stats is null)
            {
                _samples.Enqueue(new ClickSample(client.NowMs, node, -1));
                return;
            }

            total += stats.Total;
        }

        _samples.Enqueue(new ClickSample(client.NowMs, node, total));
    }
}
