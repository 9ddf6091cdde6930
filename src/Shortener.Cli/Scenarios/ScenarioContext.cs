using Shortener.Cli.Cluster;

namespace Shortener.Cli.Scenarios;

/// <summary>
/// What a disruption may use while a scenario runs: the cluster's nodes (as they change: a node
/// that joins is added to the client, the workload and the data centre map), the local processes
/// when the scenario started the cluster itself, the leader samples so far, and the progress writer.
/// </summary>
public sealed class ScenarioContext(ScenarioTarget target, ScenarioClient client, ScenarioWorkload workload, LeaderSampler leaders, LocalCluster? local, TextWriter progress)
{
    private readonly Dictionary<ulong, string> _dcOf = new(target.DcOf);

    public ScenarioTarget Target => target;

    public ScenarioClient Client => client;

    /// <summary>The node processes, when the scenario started the cluster; null against --server.</summary>
    public LocalCluster? Local => local;

    /// <summary>Every node that was a member during the run, and its data centre.</summary>
    public IReadOnlyDictionary<ulong, string> DcOf
    {
        get
        {
            lock (_dcOf)
            {
                return new Dictionary<ulong, string>(_dcOf);
            }
        }
    }

    public Task SayAsync(string line) => progress.WriteLineAsync(line);

    /// <summary>A node that joined during the run: the workload sends it requests and the final checks ask it.</summary>
    public void AddNode(ulong node, Uri address, string dc)
    {
        lock (_dcOf)
        {
            _dcOf[node] = dc;
        }

        client.Add(node, address);
        workload.AddNode(node);
    }

    /// <summary>The data centre that led the most shards in the last two seconds (see <see cref="ScenarioRunner.BusiestDc"/>).</summary>
    public string BusiestDc() => ScenarioRunner.BusiestDc(leaders.Samples.Where(s => s.AtMs >= client.NowMs - 2000), target.DcOf);

    /// <summary>The node that led the most shards in the last two seconds, and those shards.</summary>
    public (ulong Node, IReadOnlyList<int> Shards) BusiestLeader()
    {
        var busiest = LeaderSample.LeadersByShard(leaders.Samples.Where(s => s.AtMs >= client.NowMs - 2000)).GroupBy(s => s.Node).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).FirstOrDefault()
            ?? throw new ScenarioException("no node reported leading a shard in the last two seconds");
        return (busiest.Key, busiest.Select(s => s.Shard).Order().ToList());
    }
}
