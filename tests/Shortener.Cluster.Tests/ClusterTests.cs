using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shortener.Cluster.Tests;

/// <summary>Three and five node processes on loopback: writes through any node, redirects on every node, crashes, pauses and restarts.</summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Links_created_through_any_node_redirect_through_every_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var created = new List<(string Code, string Url)>();
        foreach (var via in cluster.Ids)
        {
            for (var i = 0; i < 4; i++)
            {
                var url = $"https://example.com/{via}/{i}";
                created.Add((await cluster.CreateAsync(via, url), url));
            }
        }

        created.Add((await cluster.CreateAsync(2, "https://example.com/alias", alias: "cluster-alias"), "https://example.com/alias"));
        var taken = await cluster.PostCreateAsync(3, "https://example.com/other", alias: "cluster-alias");
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);

        // A link to another node of the same cluster (its API or its peer port, by any loopback
        // name) would loop through the cluster: refused like a link to the node itself.
        var other = new Uri(cluster.Topology.Member(2)!.HttpUrl);
        var peer = new Uri(cluster.Topology.Member(3)!.PeerUrl);
        foreach (var target in new[] { $"http://127.0.0.1:{other.Port}/x", $"http://localhost:{other.Port}/", $"http://127.0.0.1:{peer.Port}/y" })
        {
            var looping = await cluster.PostCreateAsync(1, target);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, looping.StatusCode);
            Assert.Contains("redirect loop", await looping.Content.ReadAsStringAsync());
        }

        foreach (var via in cluster.Ids)
        {
            foreach (var (code, url) in created)
            {
                await cluster.AssertRedirectsAsync(via, code, url);
                var read = await cluster.Client(via).GetFromJsonAsync<JsonElement>($"/api/v1/links/{code}?consistency=linearizable");
                Assert.Equal(url, read.GetProperty("url").GetString());
            }
        }

        // Generated codes are unique across nodes and shards, and every shard got some.
        Assert.Equal(created.Count, created.Select(c => c.Code).Distinct().Count());
        var list = await cluster.Client(1).GetFromJsonAsync<JsonElement>("/api/v1/links?limit=100");
        Assert.Equal(created.Count, list.GetProperty("items").GetArrayLength());

        using var redirect = await cluster.Client(3).GetAsync("/" + created[0].Code);
        Assert.True(redirect.Headers.TryGetValues("Shortener-Applied-Age-Ms", out var age), "no applied-age header");
        Assert.InRange(long.Parse(age.Single()), 0, 5_000);
        var metrics = await cluster.Client(2).GetStringAsync("/metrics");
        Assert.Contains("shortener_shard_applied_age", metrics);
        Assert.Contains("shortener_peer_messages_sent", metrics);

        // One log for all the node's shards: every batch carried at least one shard's records.
        double Metric(string name) => double.Parse(
            metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal)).Split(' ')[^1],
            System.Globalization.CultureInfo.InvariantCulture);
        var batches = Metric("shortener_raft_log_batches_total");
        Assert.True(batches > 0, "the node's Raft log wrote no batch");
        Assert.True(Metric("shortener_raft_log_shard_batches_total") >= batches);
        Assert.True(Metric("shortener_raft_log_segments") >= 1);
    }

    [Fact]
    public async Task Killing_a_shard_leader_elects_another_within_two_election_timeouts_and_the_old_one_catches_up()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        const int shard = 0;
        var leader = await cluster.RequireLeaderOfAsync(shard);
        var survivor = cluster.Ids.First(id => id != leader);
        var before = await cluster.CreateAsync(survivor, "https://example.com/before");

        var killed = Stopwatch.StartNew();
        cluster.Kill(leader);
        ulong next = 0;
        await TestCluster.WaitUntilAsync(async () => (next = await cluster.LeaderOfAsync(shard)) != 0, TimeSpan.FromSeconds(10), "no new leader");
        var elapsed = killed.Elapsed;
        output.WriteLine($"shard {shard}: leader {leader} killed, node {next} leads after {elapsed.TotalMilliseconds:0} ms");
        // Two election timeouts, plus slack for the vote round and polling on two loaded cores.
        Assert.True(elapsed <= 2 * TestCluster.MaxElectionTimeout + TimeSpan.FromMilliseconds(1500), $"a new leader took {elapsed.TotalMilliseconds:0} ms");

        // Writes keep working (every shard with two of three replicas).
        var during = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            during.Add(await cluster.CreateAsync(survivor, $"https://example.com/during/{i}"));
        }

        await cluster.RestartAsync(leader);
        foreach (var code in during.Append(before))
        {
            await cluster.AssertRedirectsAsync(leader, code, code == before ? "https://example.com/before" : $"https://example.com/during/{during.IndexOf(code)}", TimeSpan.FromSeconds(15));
        }

        await TestCluster.WaitUntilAsync(
            async () =>
            {
                var mine = await cluster.ViewAsync(leader);
                var theirs = await cluster.ViewAsync(next);
                return mine is not null && theirs is not null && mine.Shards[shard].Applied >= theirs.Shards[shard].Commit;
            },
            TimeSpan.FromSeconds(15),
            "the restarted node did not catch up");
    }

    [Fact]
    public async Task A_paused_leader_is_replaced_and_steps_down_when_it_resumes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        const int shard = 1;
        var leader = await cluster.RequireLeaderOfAsync(shard);
        var term = (await cluster.RequireViewAsync(leader)).Shards[shard].Term;
        var others = cluster.Ids.Where(id => id != leader).ToList();

        cluster.Process(leader).Pause();
        try
        {
            ulong next = 0;
            await TestCluster.WaitUntilAsync(async () => (next = await cluster.LeaderOfAsync(shard, others)) != 0, TimeSpan.FromSeconds(10), "no leader while the old one is stopped");
            var code = await cluster.CreateAsync(others[0], "https://example.com/while-paused");
            await cluster.AssertRedirectsAsync(others[1], code, "https://example.com/while-paused");
        }
        finally
        {
            cluster.Process(leader).Resume();
        }

        await TestCluster.WaitUntilAsync(
            async () => await cluster.ViewAsync(leader) is { } view && view.Shards[shard].Term > term && view.Shards[shard].Leader != 0,
            TimeSpan.FromSeconds(10),
            "the resumed leader did not learn the new term");
        var after = await cluster.CreateEventuallyAsync(leader, "https://example.com/after-resume");
        await cluster.AssertRedirectsAsync(leader, after, "https://example.com/after-resume");
    }

    [Fact]
    public async Task An_isolated_data_centre_refuses_writes_keeps_redirecting_and_converges_after_the_heal()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var old = await cluster.CreateAsync(1, "https://example.com/old");
        await cluster.AssertRedirectsAsync(3, old, "https://example.com/old");

        var fault = await cluster.Client(1).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { "dc3" }, forSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);
        var outcomes = await fault.Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(outcomes.EnumerateArray(), o => Assert.True(o.GetProperty("applied").GetBoolean(), o.ToString()));

        // The minority side: no quorum for any shard, answered 503 in bounded time; redirects still work.
        var watch = Stopwatch.StartNew();
        var refused = await cluster.PostCreateAsync(3, "https://example.com/minority");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("urn:shortener:problem:no-quorum", problem.GetProperty("type").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the refusal took {watch.Elapsed}");
        Assert.Equal("https://example.com/old", await cluster.RedirectAsync(3, old));
        var linearizable = await cluster.Client(3).GetAsync($"/api/v1/links/{old}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, linearizable.StatusCode);
        var local = await cluster.Client(3).GetFromJsonAsync<JsonElement>($"/api/v1/links/{old}?consistency=local");
        Assert.Equal("https://example.com/old", local.GetProperty("url").GetString());

        // The majority side keeps writing.
        var during = await cluster.CreateAsync(1, "https://example.com/majority");
        await cluster.AssertRedirectsAsync(2, during, "https://example.com/majority");
        Assert.Null(await cluster.RedirectAsync(3, during));

        var heal = await cluster.Client(2).DeleteAsync("/admin/v1/faults");
        Assert.Equal(HttpStatusCode.OK, heal.StatusCode);
        await cluster.AssertRedirectsAsync(3, during, "https://example.com/majority", TimeSpan.FromSeconds(10));
        var after = await cluster.CreateAsync(3, "https://example.com/after-heal");
        foreach (var id in cluster.Ids)
        {
            await cluster.AssertRedirectsAsync(id, after, "https://example.com/after-heal");
        }
    }

    [Fact]
    public async Task A_timed_partition_heals_itself_even_when_the_node_that_set_it_is_gone()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var fault = await cluster.Client(3).PostAsJsonAsync("/admin/v1/faults", new { action = "partition", isolate = new[] { "dc1" }, forSeconds = 15 });
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);
        var outcomes = await fault.Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(outcomes.EnumerateArray(), o => Assert.True(o.GetProperty("applied").GetBoolean(), o.ToString()));
        cluster.Kill(3);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await cluster.PostCreateAsync(1, "https://example.com/cut-off")).StatusCode);

        // Nodes 1 and 2 heal on their own at the deadline (a write waits 5 s at most, so the one
        // above gave up before it); with 3 gone they are the majority again.
        await TestCluster.WaitUntilAsync(
            async () => (await cluster.PostCreateAsync(1, "https://example.com/healed")).StatusCode == HttpStatusCode.Created,
            TimeSpan.FromSeconds(30),
            "the partition did not heal itself");
    }

    [Fact]
    public async Task Five_nodes_in_three_data_centres_serve_writes_and_redirects_everywhere()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 5);
        var view = await cluster.RequireViewAsync(1);
        foreach (var shard in view.Shards)
        {
            Assert.Equal(3, shard.Voters.Count);
            Assert.Equal(2, shard.Learners.Count);
            Assert.Equal(3, shard.Voters.Select(v => view.Members.Single(m => m.Id == v).Dc).Distinct().Count());
        }

        var codes = new List<string>();
        foreach (var via in cluster.Ids)
        {
            codes.Add(await cluster.CreateAsync(via, $"https://example.com/five/{via}"));
        }

        // A learner-only node still redirects from its own replica.
        cluster.Kill(1);
        foreach (var via in cluster.Ids.Where(id => id != 1))
        {
            for (var i = 0; i < codes.Count; i++)
            {
                // Node 1 may have led a shard and not yet told every replica the last commit: the others elect first.
                await cluster.AssertRedirectsAsync(via, codes[i], $"https://example.com/five/{i + 1}", TimeSpan.FromSeconds(15));
            }
        }

        codes.Add(await cluster.CreateAsync(5, "https://example.com/five/after"));
        await cluster.AssertRedirectsAsync(4, codes[^1], "https://example.com/five/after");
    }

    [Fact]
    public async Task A_peer_without_the_cluster_secret_is_refused()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 2);
        using var channel = cluster.PeerChannel(cluster.Topology.Members[0].PeerUrl);
        var client = new Node.Peers.Protocol.Peer.PeerClient(channel);
        foreach (var secret in new[] { "wrong", string.Empty })
        {
            var headers = new Grpc.Core.Metadata();
            if (secret.Length > 0)
            {
                headers.Add(Node.Peers.GrpcPeerTransport.SecretHeader, secret);
            }

            var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
                await client.InjectFaultAsync(new Node.Peers.Protocol.FaultRequest { Json = """{"action":"pause"}""" }, headers));
            Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, error.StatusCode);
        }

        // Nothing was paused: the cluster still writes.
        await cluster.CreateAsync(1, "https://example.com/still-fine");

        // A 20 MB message without the secret is answered PERMISSION_DENIED from its headers after
        // 16 KB of it, and its stream reset; with the secret, a message over the cap is refused
        // from its length prefix (RESOURCE_EXHAUSTED). Neither is read, let alone buffered.
        var peer = new Uri(cluster.Topology.Members[0].PeerUrl);
        var certificate = cluster.PeerSecurity().Certificate!;
        Assert.Equal(("7", true), await RawGrpcCallAsync(peer, certificate, secret: null, declaredBytes: 20 << 20));
        Assert.Equal(("8", true), await RawGrpcCallAsync(peer, certificate, cluster.Layout.Secret, declaredBytes: Node.Peers.GrpcPeerTransport.MaxMessageBytes + 1));
        await cluster.CreateAsync(2, "https://example.com/still-fine-2");

        // The peer port speaks only mutual TLS: no certificate, one another authority signed, or
        // plain HTTP/2 get no answer from the peer protocol, even with the secret.
        var (otherAuthority, otherAuthorityKey) = Node.Peers.PeerCertificates.CreateAuthority("someone else", DateTimeOffset.UtcNow);
        var (strangerPem, strangerKey) = Node.Peers.PeerCertificates.Issue(otherAuthority, otherAuthorityKey, "stranger", ["127.0.0.1"], DateTimeOffset.UtcNow);
        using var stranger = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(strangerPem, strangerKey);
        foreach (var presented in new[] { stranger, null })
        {
            var (status, _) = await RawGrpcCallAsync(peer, presented, cluster.Layout.Secret, declaredBytes: 10);
            Assert.Null(status);
        }

        using var plain = Grpc.Net.Client.GrpcChannel.ForAddress(new UriBuilder(peer) { Scheme = "http" }.Uri);
        var plainCall = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await new Node.Peers.Protocol.Peer.PeerClient(plain).InjectFaultAsync(
            new Node.Peers.Protocol.FaultRequest { Json = """{"action":"pause"}""" },
            new Grpc.Core.Metadata { { Node.Peers.GrpcPeerTransport.SecretHeader, cluster.Layout.Secret } }));
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, plainCall.StatusCode);
        await cluster.CreateAsync(3, "https://example.com/still-fine-3");
    }

    /// <summary>
    /// One gossip call by hand, in raw HTTP/2 frames (a client library hides what matters here):
    /// the headers, a gRPC length prefix declaring <paramref name="declaredBytes"/> and only the
    /// first 16 KB of the message, then whatever the server answers within 5 s, over TLS presenting
    /// <paramref name="certificate"/>. Returns the grpc-status of its HEADERS and whether it reset
    /// the stream (so the rest is never read); no status when the connection was refused.
    /// </summary>
    private static async Task<(string? Status, bool Reset)> RawGrpcCallAsync(Uri peer, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, string? secret, int declaredBytes)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(peer.Host, peer.Port);
        await using var stream = new System.Net.Security.SslStream(tcp.GetStream());
        try
        {
            await stream.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = peer.Host,
                ClientCertificates = certificate is null ? null : [certificate],
                ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            return (null, false);
        }

        static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
        {
            var frame = new byte[9 + payload.Length];
            frame[0] = (byte)(payload.Length >> 16);
            frame[1] = (byte)(payload.Length >> 8);
            frame[2] = (byte)payload.Length;
            frame[3] = type;
            frame[4] = flags;
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
            payload.CopyTo(frame, 9);
            return frame;
        }

        // HPACK "literal without indexing, new name", every name and value under 127 bytes.
        static IEnumerable<byte> Literal(string name, string value) =>
            new byte[] { 0, (byte)name.Length }.Concat(System.Text.Encoding.ASCII.GetBytes(name)).Append((byte)value.Length).Concat(System.Text.Encoding.ASCII.GetBytes(value));

        var headers = Literal(":method", "POST").Concat(Literal(":scheme", "https")).Concat(Literal(":path", "/shortener.peer.v1.Peer/Gossip"))
            .Concat(Literal(":authority", $"{peer.Host}:{peer.Port}")).Concat(Literal("content-type", "application/grpc")).Concat(Literal("te", "trailers"));
        if (secret is not null)
        {
            headers = headers.Concat(Literal(Node.Peers.GrpcPeerTransport.SecretHeader, secret));
        }

        var data = new byte[5 + 16_000];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(1), declaredBytes);
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").Concat(Frame(4, 0, 0, [])).Concat(Frame(1, 4, 1, [.. headers])).Concat(Frame(0, 0, 1, data)).ToArray());

        string? status = null;
        var reset = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var header = new byte[9];
        try
        {
            while (!reset)
            {
                await stream.ReadExactlyAsync(header, timeout.Token);
                var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
                await stream.ReadExactlyAsync(payload, timeout.Token);
                var onStream = (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff) == 1;
                if (header[3] == 1 && onStream && System.Text.RegularExpressions.Regex.Match(System.Text.Encoding.ASCII.GetString(payload), "grpc-status.([0-9]+)") is { Success: true } m)
                {
                    status = m.Groups[1].Value;
                }

                reset |= header[3] == 3 && onStream;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException)
        {
            // No more frames within the time: return what came.
        }

        return (status, reset);
    }

    [Fact]
    public async Task A_node_down_while_its_shards_compacted_catches_up_from_snapshots()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, shards: 2, environment: new Dictionary<string, string>
        {
            ["Shortener__Cluster__SnapshotEntries"] = "40",
            ["Shortener__Cluster__SnapshotKeepEntries"] = "5",
        });
        cluster.Kill(3);
        var codes = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            codes.Add(await cluster.CreateAsync((ulong)(1 + (i % 2)), $"https://example.com/snap/{i}"));
        }

        var view = await cluster.RequireViewAsync(1);
        Assert.All(view.Shards, s => Assert.True(s.SnapshotIndex > 40, $"shard {s.Shard} did not compact (snapshot at {s.SnapshotIndex})"));

        await cluster.RestartAsync(3);
        for (var i = 0; i < codes.Count; i += 7)
        {
            await cluster.AssertRedirectsAsync(3, codes[i], $"https://example.com/snap/{i}", TimeSpan.FromSeconds(20));
        }

        var caughtUp = await cluster.RequireViewAsync(3);
        Assert.All(caughtUp.Shards, s => Assert.True(s.SnapshotIndex > 40, $"node 3 caught up shard {s.Shard} without a snapshot"));
        await TestCluster.WaitForLogAsync(cluster.Process(3).LogPath, "installed a snapshot");
    }
}
