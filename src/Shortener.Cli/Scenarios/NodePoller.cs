namespace Shortener.Cli.Scenarios;

/// <summary>
/// Asks every node something on a fixed rhythm, each node on its own: a node that does not answer
/// (frozen, cut off) holds up only its own next question, never the others', so the samples of the
/// nodes that do answer have no gaps. At most one question per node is in flight; nodes that join
/// during the run are asked from the next tick on.
/// </summary>
public static class NodePoller
{
    public static async Task RunAsync(ScenarioClient client, TimeSpan interval, Func<ulong, Task> ask, CancellationToken stop)
    {
        var inFlight = new Dictionary<ulong, Task>();
        while (!stop.IsCancellationRequested)
        {
            foreach (var node in client.Nodes)
            {
                if (!inFlight.TryGetValue(node, out var pending) || pending.IsCompleted)
                {
                    inFlight[node] = ask(node);
                }
            }

            try
            {
                await Task.Delay(interval, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(inFlight.Values);
    }
}
