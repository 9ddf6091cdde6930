using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Shortener.Node.Cluster.Protocol;

namespace Shortener.Node.Cluster;

/// <summary>The gRPC side peers call: Raft streams into the shards, and fault fan-out. Calls without the cluster secret are refused.</summary>
public sealed class PeerService(ShardHost host, FaultInjector faults, ILogger<PeerService> logger) : Peer.PeerBase
{
    public override async Task<RaftStreamClosed> Raft(IAsyncStreamReader<RaftBatch> requestStream, ServerCallContext context)
    {
        Authorize(context);
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                host.Deliver(requestStream.Current);
            }
        }
        catch (IOException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The peer went away mid-stream; it will dial again.
        }

        return new RaftStreamClosed();
    }

    public override async Task<FaultReply> InjectFault(FaultRequest request, ServerCallContext context)
    {
        Authorize(context);
        var reply = await faults.ApplyLocalAsync(request.Json).ConfigureAwait(false);
        return new FaultReply { Json = reply };
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
