using System.Collections.Concurrent;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// The steady workload of a scenario. On every node: a few workers in a loop of updates and
/// linearizable reads of a small set of links (so their histories overlap and the checker has
/// something to decide) and creates of new links, every write with an idempotency key of its own;
/// and one redirect worker, so that a node whose writes wait for a quorum it cannot reach still
/// shows what it serves. Most redirects go to a few "hot" links redirected from every node at
/// once, so both sides of a cut record clicks of the same link. Seeded: the same seed sends the
/// same requests.
/// </summary>
public sealed class ScenarioWorkload(ScenarioClient client, ScenarioLinks links, int workersPerNode, int seed)
{
    private readonly ConcurrentQueue<ScenarioOperation> _history = new();
    private readonly List<Task> _workers = [];
    private CancellationToken _stop;
    private int _nodesStarted;

    public IReadOnlyCollection<ScenarioOperation> History => _history;

    public void Record(ScenarioOperation operation) => _history.Enqueue(operation);

    /// <summary>Runs every worker until <paramref name="stop"/>; requests in flight then finish.</summary>
    public Task RunAsync(CancellationToken stop)
    {
        lock (_workers)
        {
            _stop = stop;
            foreach (var node in client.Nodes)
            {
                StartWorkers(node);
            }
        }

        return WaitAsync();
    }

    /// <summary>Starts workers on a node that joined while the workload runs (numbered after every other node's).</summary>
    public void AddNode(ulong node)
    {
        lock (_workers)
        {
            StartWorkers(node);
        }
    }

    // Workers may be added while this waits: it waits until a pass finds no worker it has not seen.
    private async Task WaitAsync()
    {
        var seen = 0;
        while (true)
        {
            Task[] running;
            lock (_workers)
            {
                if (_workers.Count == seen)
                {
                    return;
                }

                running = [.. _workers];
            }

            await Task.WhenAll(running);
            seen = running.Length;
        }
    }

    private void StartWorkers(ulong node)
    {
        var first = _nodesStarted++ * (workersPerNode + 1);
        for (var w = 0; w < workersPerNode; w++)
        {
            var worker = first + w;
            _workers.Add(Task.Run(() => WriteAndReadAsync(worker, node, _stop), CancellationToken.None));
        }

        var redirector = first + workersPerNode;
        _workers.Add(Task.Run(() => RedirectAsync(redirector, node, _stop), CancellationToken.None));
    }

    private async Task WriteAndReadAsync(int worker, ulong node, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, worker));
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var roll = random.Next(100);
            var key = links.KeyFor(worker, n);
            var operation = roll switch
            {
                < 45 => await client.UpdateAsync(worker, node, links.Register(random), links.UrlFor(worker, n), key, CancellationToken.None),
                < 85 => await client.ReadAsync(worker, node, links.Register(random), CancellationToken.None),
                _ => await client.CreateAsync(worker, node, links.NewAlias(worker, n), links.UrlFor(worker, n), key, CancellationToken.None),
            };
            Record(operation);
            if (operation.Outcome != ScenarioOutcome.Ok && !await PauseAsync(stop))
            {
                return;
            }
        }
    }

    private async Task RedirectAsync(int worker, ulong node, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, worker));
        while (!stop.IsCancellationRequested)
        {
            var operation = await client.RedirectAsync(worker, node, random.Next(100) < 70 ? links.Hot(random) : links.Clicked(random), CancellationToken.None);
            Record(operation);
            if (operation.Outcome != ScenarioOutcome.Ok && !await PauseAsync(stop))
            {
                return;
            }
        }
    }

    /// <summary>A refused request comes back at once: a short pause keeps a worker from spinning on refusals. False once stopped.</summary>
    private static async Task<bool> PauseAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(50, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
