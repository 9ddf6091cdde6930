using Shortener.Cli.Cluster;
using Shortener.Core.Cluster;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Node.Tests;

namespace Shortener.Cli.Tests;

public sealed class LocalClusterLayoutTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_restart_runs_the_members_the_nodes_last_knew_of_not_the_ones_up_created()
    {
        var created = LocalClusterLayout.OpenOrCreate(_dir.Path, () => LocalClusterLayout.Plan(3, 3, 4, 18080, 19080), apiKey: null, secret: null);
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            Directory.CreateDirectory(created.NodeDataDir(id));
        }

        // Unchanged: every member runs.
        Assert.Equal([1UL, 2, 3], LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null).Topology.Members.Select(m => m.Id));

        // Node 4 was added (and started once into node-4), node 1 is leaving; node 3's file is older.
        var topology = created.Topology;
        var four = new ClusterMember(4, "dc1", "http://127.0.0.1:19083", "http://127.0.0.1:18083");
        var changed = topology.WithMembers(new ClusterMembership([topology.Members[0] with { Leaving = true }, topology.Members[1], topology.Members[2], four], 4), 2);
        TopologyFile.Save(Path.Combine(created.NodeDataDir(2), TopologyFile.FileName), changed);
        TopologyFile.Save(Path.Combine(created.NodeDataDir(3), TopologyFile.FileName), topology.WithMembers(new ClusterMembership(topology.Members, 3), 1));
        File.WriteAllText(Path.Combine(created.NodeDataDir(1), TopologyFile.FileName), "damaged");
        Directory.CreateDirectory(created.NodeDataDir(4));

        var restarted = LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null);
        Assert.Equal([2UL, 3, 4], restarted.Topology.Members.Select(m => m.Id));
        Assert.Equal(four.HttpUrl, restarted.Topology.Member(4)!.HttpUrl);

        // A member added but never started here is not started by `up`.
        Directory.Delete(created.NodeDataDir(4));
        var without = LocalClusterLayout.OpenOrCreate(_dir.Path, () => throw new InvalidOperationException(), null, null);
        Assert.Equal([2UL, 3], without.Topology.Members.Select(m => m.Id));
        Assert.Equal([4UL], without.Elsewhere.Select(m => m.Id));
    }
}
