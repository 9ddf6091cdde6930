using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shortener.Core.Cluster;
using Shortener.Node.Api;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>Adding a node to a running cluster and removing one, over real processes.</summary>
public sealed class MembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_node_joins_as_a_learner_is_promoted_where_placed_and_a_removed_node_hands_over_its_shards()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 4);
        var before = new List<(string Code, string Url)>();
        for (var i = 0; i < 24; i++)
        {
            var url = $"https://example.com/before/{i}";
            before.Add((await cluster.CreateAsync((ulong)(1 + (i % 3)), url), url));
        }

        // Bad requests change nothing.
        await AssertProblemAsync(await cluster.Client(2).PostAsJsonAsync("/admin/v1/cluster/nodes", new { id = 2, dc = "dc1", peerUrl = "https://127.0.0.1:1", httpUrl = "http://127.0.0.1:2" }), 409, "membership-conflict");
        await AssertProblemAsync(await cluster.Client(2).PostAsJsonAsync("/admin/v1/cluster/nodes", new { id = 7, dc = "dc1", peerUrl = "not a url", httpUrl = "http://127.0.0.1:2" }), 422, "invalid-field");
        var plain = await cluster.Client(2).PostAsJsonAsync("/admin/v1/cluster/nodes", new { id = 7, dc = "dc1", peerUrl = "http://127.0.0.1:1", httpUrl = "http://127.0.0.1:2" });
        Assert.Contains("plain http", await plain.Content.ReadAsStringAsync());
        await AssertProblemAsync(plain, 422, "invalid-field");
        await AssertProblemAsync(await cluster.Client(2).PostAsJsonAsync("/admin/v1/cluster/nodes", new { id = 7, peerUrl = "http://127.0.0.1:1" }), 422, "invalid-field");
        await AssertProblemAsync(await cluster.Client(2).DeleteAsync("/admin/v1/cluster/nodes/9"), 404, "no-such-member");
        Assert.Equal(0, (await cluster.RequireViewAsync(1)).MembersVersion);

        // A node started to join before it was added is refused with advice.
        var stranger = new ClusterMember(5, "dc2", "https://127.0.0.1:1", "http://127.0.0.1:2");
        cluster.StartJoining(stranger, seed: 1);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await cluster.Process(5).WaitForExitAsync(exit.Token);
        }

        Assert.NotEqual(0, cluster.Process(5).ExitCode);
        await TestCluster.WaitForLogAsync(cluster.Process(5).LogPath, "add it first");

        // Add node 4 and start it: it fetches the topology, opens its shards empty, and the leaders fill them.
        var (response, member) = await cluster.AddMemberAsync(via: 2, id: 4, dc: "dc1");
        var added = await response.Content.ReadFromJsonAsync<MembershipResponse>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("--join", added!.Join);
        Assert.Equal(1, added.MembersVersion);
        var again = (await cluster.AddMemberAsync(via: 3, id: 4, dc: "dc1")).Response;
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        // Until it runs, node 4 is a learner everywhere and votes nowhere, however short the logs are.
        await TestCluster.WaitUntilAsync(async () => (await cluster.RequireViewAsync(1)).Shards.All(s => s.Learners.Contains(4UL)), Settle, "node 4 was not added as a learner");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.All((await cluster.RequireViewAsync(2)).Shards, s => Assert.DoesNotContain(4UL, s.Voters));

        cluster.StartJoining(member, seed: 3);
        var grown = cluster.Topology with { Members = [.. cluster.Topology.Members, member] };
        await WaitForPlacementAsync(cluster, grown, watchers: [1, 2, 3, 4]);
        Assert.Contains(grown.Placement(), p => p.Voters.Contains(4UL));
        var fourAtJoin = await File.ReadAllTextAsync(Path.Combine(cluster.Layout.NodeDataDir(4), "cluster.json"));
        using (var ready = await cluster.Client(4).GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        foreach (var (code, url) in before)
        {
            await cluster.AssertRedirectsAsync(4, code, url, TimeSpan.FromSeconds(10));
        }

        var fromFour = await cluster.CreateAsync(4, "https://example.com/from-four");
        var read = await cluster.Client(4).GetFromJsonAsync<JsonElement>($"/api/v1/links/{fromFour}?consistency=linearizable");
        Assert.Equal("https://example.com/from-four", read.GetProperty("url").GetString());
        Assert.Equal(4, (await cluster.RequireViewAsync(2)).Members.Count);
        var votesOnFour = (await cluster.Client(4).GetStringAsync("/metrics")).Split('\n').Where(l => l.StartsWith("shortener_shard_voter", StringComparison.Ordinal) && !l.StartsWith("shortener_shard_voter_", StringComparison.Ordinal)).ToList();
        Assert.Equal(grown.Placement().Count(p => p.Voters.Contains(4UL)), votesOnFour.Count(l => l.EndsWith(" 1", StringComparison.Ordinal)));
        var steps = string.Concat(await Task.WhenAll(new ulong[] { 1, 2, 3 }.Select(id => cluster.Client(id).GetStringAsync("/metrics"))));
        Assert.Contains(steps.Split('\n'), l => l.StartsWith("shortener_membership_steps", StringComparison.Ordinal) && l.Contains("kind=\"add-learner\"", StringComparison.Ordinal));

        // Remove node 1 (a founder that leads some shards): its shards move, then it leaves the member list.
        var states = new List<string>();
        await TestCluster.WaitUntilAsync(
            async () =>
            {
                using var removal = await cluster.Client(2).DeleteAsync("/admin/v1/cluster/nodes/1");
                if ((int)removal.StatusCode >= 500)
                {
                    // A shard changing leader in the middle of the move: not yet.
                    await Task.Delay(500);
                    return false;
                }

                var state = (await removal.Content.ReadFromJsonAsync<MembershipResponse>())!;
                Assert.True(removal.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"remove-node: {(int)removal.StatusCode}");
                states.Add(state.State);
                if (state.State != "removed")
                {
                    await Task.Delay(500);
                }

                return state.State == "removed";
            },
            Settle,
            "node 1 was not removed");
        output.WriteLine($"removal states: {string.Join(", ", states)}");
        Assert.Equal("leaving", states[0]);

        var shrunk = grown with { Members = grown.Members.Where(m => m.Id != 1).ToArray() };
        await WaitForPlacementAsync(cluster, shrunk, watchers: [2, 3, 4]);
        // Node 3 drops node 1 once it applies the member-list entry, which may come a moment after
        // node 2 answered "removed" (the shards' placement above was final before that entry).
        await TestCluster.WaitUntilAsync(
            async () => await cluster.ViewAsync(3) is { } v && v.Members.All(m => m.Id != 1) && v.Gossip!.All(g => g.Id != 1),
            TimeSpan.FromSeconds(15),
            "node 3 still lists node 1");
        Assert.Contains((await cluster.RequireViewAsync(3)).Gossip!, g => g.Id == 4);

        // The removed node no longer claims to be ready (its data stops being updated).
        using (var notReady = await cluster.Client(1).GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("leaving", await notReady.Content.ReadAsStringAsync());
        }

        // A node that votes (here node 4, not a founder) cannot join again, as it would with an empty data dir.
        using (var channel = cluster.PeerChannel(cluster.Topology.Member(3)!.PeerUrl))
        {
            var peer = new Node.Peers.Protocol.Peer.PeerClient(channel);
            var headers = new Grpc.Core.Metadata { { Node.Peers.GrpcPeerTransport.SecretHeader, cluster.Layout.Secret } };
            var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await peer.JoinAsync(new Node.Peers.Protocol.JoinRequest { NodeId = 4 }, headers));
            Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("already holds shard data", refused.Status.Detail);
        }

        // Removing it again is a harmless no-op.
        using (var twice = await cluster.Client(3).DeleteAsync("/admin/v1/cluster/nodes/1"))
        {
            Assert.Equal(HttpStatusCode.OK, twice.StatusCode);
        }

        // Without node 1 every shard still writes, and node 4 serves what was there before.
        cluster.Kill(1);
        for (var i = 0; i < 16; i++)
        {
            var url = $"https://example.com/after/{i}";
            var code = await cluster.CreateAsync((ulong)(2 + (i % 3)), url);
            await cluster.AssertRedirectsAsync(4, code, url);
        }

        foreach (var (code, url) in before.Take(8))
        {
            await cluster.AssertRedirectsAsync(4, code, url);
        }

        // A restarted node takes the member list from shard 0 even when its cluster.json is older.
        cluster.Kill(4);
        await File.WriteAllTextAsync(Path.Combine(cluster.Layout.NodeDataDir(4), "cluster.json"), fourAtJoin);
        await cluster.RestartAsync(4);
        var afterRestart = await cluster.RequireViewAsync(4);
        Assert.Equal(3, afterRestart.MembersVersion);
        Assert.DoesNotContain(afterRestart.Members, m => m.Id == 1);
        await WaitForPlacementAsync(cluster, shrunk, watchers: [4]);
    }

    /// <summary>Waits until every watcher sees each shard configured as <paramref name="topology"/> places it, with a leader.</summary>
    private static async Task WaitForPlacementAsync(TestCluster cluster, ClusterTopology topology, ulong[] watchers)
    {
        var placement = topology.Placement();
        var deadline = DateTime.UtcNow + Settle;
        while (true)
        {
            var mismatch = await MismatchAsync();
            if (mismatch is null)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the shards did not reach their placement within {Settle.TotalSeconds} s: {mismatch}");
            await Task.Delay(100);
        }

        async Task<string?> MismatchAsync()
        {
            foreach (var id in watchers)
            {
                if (await cluster.ViewAsync(id) is not { } view)
                {
                    return $"node {id} does not answer";
                }

                foreach (var shard in view.Shards)
                {
                    var want = placement[shard.Shard];
                    if (!shard.Voters.Order().SequenceEqual(want.Voters.Order()) || !shard.Learners.Order().SequenceEqual(want.Learners.Order()) || shard.Leader == 0)
                    {
                        return $"node {id} sees shard {shard.Shard} as voters ({string.Join(',', shard.Voters)}) learners ({string.Join(',', shard.Learners)}) leader {shard.Leader}; want ({string.Join(',', want.Voters)}) / ({string.Join(',', want.Learners)})";
                    }
                }
            }

            return null;
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string slug)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
            Assert.Contains("urn:shortener:problem:" + slug, body);
        }
    }
}
