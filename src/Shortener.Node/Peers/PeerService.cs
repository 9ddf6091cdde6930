using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Node.Clocks;
using Shortener.Node.Faults;
using Shortener.Node.Membership;
using Shortener.Node.Peers.Protocol;
using Shortener.Node.Shards;

namespace Shortener.Node.Peers;

/// <summary>The gRPC side peers call: Raft streams into the shards, gossip, the click store, joins and fault fan-out. Calls without the cluster secret never get here: <see cref="PeerServer"/> refuses them on their headers.</summary>
public sealed class PeerService(ShardHost shards, MembershipService membership, FaultInjector faults, GossipDriver gossip, Clicks.ClickService clicks, NodeClock clock, IHostApplicationLifetime lifetime, Microsoft.Extensions.Options.IOptions<Hosting.NodeOptions> options, ILogger<PeerService> logger) : Peer.PeerBase
{
    public override async Task<RaftStreamClosed> Raft(IAsyncStreamReader<RaftBatch> requestStream, ServerCallContext context)
    {
        // Streams never end on their own: a stopping node ends them, or its shutdown would wait for the peers.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                var batch = requestStream.Current;
                clock.Observe(batch.Hlc, batch.From);
                shards.Deliver(batch);
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
        if (!options.Value.AllowFaults)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "fault injection is off on this node (it was not started with --allow-faults)"));
        }

        var reply = await faults.ApplyLocalAsync(request.Json).ConfigureAwait(false);
        return new FaultReply { Json = reply };
    }

    public override async Task<JoinReply> Join(JoinRequest request, ServerCallContext context)
    {
        ClusterTopology topology;
        try
        {
            topology = await membership.JoinAsync(request.NodeId, context.CancellationToken).ConfigureAwait(false);
        }
        catch (MembershipRefusedException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }

        logger.LogInformation("Node {Node} fetched the topology to join (it is {Member})", request.NodeId, topology.Member(request.NodeId) is null ? "not a member" : "a member");
        return new JoinReply { TopologyJson = TopologyFile.Serialize(topology with { Founders = topology.Founders ?? topology.Members }) };
    }

    public override Task<GossipReceived> Gossip(GossipPacket request, ServerCallContext context)
    {
        clock.Observe(request.Hlc, request.From);
        gossip.Receive(request);
        return Task.FromResult(new GossipReceived());
    }

    public override Task<ClickReceived> Click(ClickPacket request, ServerCallContext context)
    {
        clock.Observe(request.Hlc, request.From);
        clicks.Receive(request);
        return Task.FromResult(new ClickReceived());
    }
}
