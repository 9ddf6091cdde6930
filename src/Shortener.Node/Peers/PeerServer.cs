using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Shards;

namespace Shortener.Node.Peers;

/// <summary>
/// The peer endpoint: a second Kestrel server, HTTP/2 only (gRPC over mutual TLS, or in the clear on
/// loopback for development: <see cref="PeerSecurity"/>), on the port of this
/// node's peer URL, apart from the public API so that peer traffic meets none of the API's
/// middleware (keys, rate limits) and clients never reach the peer protocol by accident.
/// A call without the cluster secret is refused on its headers, before a byte of its body is read
/// (at most a flow-control window of it ever arrives); messages are capped at what peers send
/// (<see cref="GrpcPeerTransport.MaxMessageBytes"/>) and streams and connections are bounded.
/// </summary>
public sealed class PeerServer(ShardHost shards, MemberList members, MembershipService membership, ClusterSecret secret, PeerSecurity security, FaultInjector faults, GossipDriver gossip, Clicks.ClickService clicks, Clocks.NodeClock clock, Microsoft.Extensions.Options.IOptions<NodeOptions> nodeOptions, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    public const int MaxStreamsPerConnection = 128;
    public const int MaxConnections = 512;

    private readonly ILogger _refusals = loggers.CreateLogger<PeerServer>();
    private WebApplication? _app;

    public Uri? ListeningOn { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!members.CanGrow)
        {
            // A cluster of one has no peers to listen for, unless it was given a peer address and a
            // secret, which lets nodes join it.
            return;
        }

        var self = members.Topology.Member(members.Self)!;
        var url = new Uri(self.PeerUrl);
        var builder = WebApplication.CreateSlimBuilder(ShortenerNodeApp.HostOptionsWithoutReload([]));
        builder.Logging.ClearProviders();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggers));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = GrpcPeerTransport.MaxMessageBytes;
            o.MaxSendMessageSize = GrpcPeerTransport.MaxMessageBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.Services.AddSingleton(shards);
        builder.Services.AddSingleton(membership);
        builder.Services.AddSingleton(faults);
        builder.Services.AddSingleton(gossip);
        builder.Services.AddSingleton(clicks);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(nodeOptions);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A peer keeps one Raft stream and at most 16 gossip and 64 click calls in flight on a connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            var address = IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) ? ip : IPAddress.Any;
            kestrel.Listen(address, url.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                security.ConfigureServer(listen);
            });
        });
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            if (secret.Matches(context.Request.Headers[GrpcPeerTransport.SecretHeader].ToString()))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            // A trailers-only gRPC answer, PERMISSION_DENIED, sent at once (ahead of the stream's
            // reset, which tells the caller to stop sending); the body stays unread.
            _refusals.LogDebug("Refused a peer call to {Path} from {Peer} without the cluster secret", context.Request.Path, context.Connection.RemoteIpAddress);
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "7";
            context.Response.Headers["grpc-message"] = "this cluster requires its shared secret";
            await context.Response.CompleteAsync().ConfigureAwait(false);
        });
        _app.MapGrpcService<PeerService>();
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        ListeningOn = url;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
