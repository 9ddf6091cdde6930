using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Node.Cluster.Protocol;

namespace Shortener.Node.Cluster;

/// <summary>The gRPC side peers call: Raft streams into the shards, gossip, the click store, joins and fault fan-out. Calls without the cluster secret are refused.</summary>
public sealed class PeerService(ShardHost host, FaultInjector faults, GossipDriver gossip, Clicks.ClickService clicks, IHostApplicationLifetime lifetime, ILogger<PeerService> logger) : Peer.PeerBase
{
    public override async Task<RaftStreamClosed> Raft(IAsyncStreamReader<RaftBatch> requestStream, ServerCallContext context)
    {
        Authorize(context);

        // Streams never end on their own: a stopping node ends them, or its shutdown would wait for the peers.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                host.Deliver(requestStream.Current);
            }
        }
        catch (Exception e) when (e is IOException || (e is OperationCanceledException && ended.IsCancellationRequested))
        {
            // The peer went away mid-stream (it will dial again), or this node is stopping.
        }

        return new RaftStreamClosed();
    }

    public override async Task<FaultReply> InjectFault(FaultRequest request, ServerCallContext context)
    {
        Authorize(context);
        var reply = await faults.ApplyLocalAsync(request.Json).ConfigureAwait(false);
        return new FaultReply { Json = reply };
    }

    public override async Task<JoinReply> Join(JoinRequest request, ServerCallContext context)
    {
        Authorize(context);

        // Up to date with shard 0, so a member added a moment ago is in the answer.
        await host.Replicas[0].WaitLinearizableAsync(context.CancellationToken).ConfigureAwait(false);
        var topology = host.Topology;
        logger.LogInformation("Node {Node} fetched the topology to join (it is {Member})", request.NodeId, topology.Member(request.NodeId) is null ? "not a member" : "a member");

        // A node that votes somewhere holds data a quorum counts on: it must come back with its own
        // data dir, never empty (it would vote without the entries it acknowledged).
        if (topology.IsFounder(request.NodeId)
            || host.Replicas.Any(r => r.Status.Config.Voters.Contains(request.NodeId) || r.Status.Config.VotersOutgoing.Contains(request.NodeId)))
        {
            throw new RpcException(new Status(
                StatusCode.FailedPrecondition,
                $"node {request.NodeId} already holds shard data in this cluster; restart it on its own data dir, or remove it (cluster remove-node) and add a node under a new id"));
        }

        return new JoinReply { TopologyJson = TopologyFile.Serialize(topology with { Founders = topology.Founders ?? topology.Members }) };
    }

    public override Task<GossipReceived> Gossip(GossipPacket request, ServerCallContext context)
    {
        Authorize(context);
        gossip.Receive(request);
        return Task.FromResult(new GossipReceived());
    }

    public override Task<ClickReceived> Click(ClickPacket request, ServerCallContext context)
    {
        Authorize(context);
        clicks.Receive(request);
        return Task.FromResult(new ClickReceived());
    }

    private void Authorize(ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(PeerTransport.SecretHeader);
        if (presented is null || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), host.SecretHash))
        {
            logger.LogWarning("Refused a peer call from {Peer} without the cluster secret", context.Peer);
            throw new RpcException(new Status(StatusCode.PermissionDenied, "this cluster requires its shared secret"));
        }
    }
}
