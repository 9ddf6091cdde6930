using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Shortener.Core.Links;
using Shortener.Core.Cluster;
using Shortener.Node.Api;
using Shortener.Node.Faults;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Node.Links;
using Shortener.Node.Observability;
using Shortener.Node.Security;
using Shortener.Storage.Security;

namespace Shortener.Node.Hosting;

/// <summary>Builds one Shortener node: the HTTP API, redirects, health, metrics and OpenAPI over its link store.</summary>
public static class ShortenerNodeApp
{
    /// <summary>The node's own database: API key hashes (link data lives in the shards).</summary>
    public const string DatabaseFileName = "node.db";

    /// <summary>
    /// A builder with the node's services registered. Configuration comes from appsettings.json,
    /// environment variables (SHORTENER_ prefix, e.g. SHORTENER_API_KEY, or Shortener__DataDir),
    /// then <paramref name="args"/> and <paramref name="overrides"/>, later ones winning.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateSlimBuilder(HostOptionsWithoutReload(args));
        builder.Configuration.AddEnvironmentVariables("SHORTENER_");
        builder.Configuration.AddInMemoryCollection(MapShortEnvironmentNames());
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:8080");
        }

        ConfigureLogging(builder);
        ConfigureServices(builder);
        return builder;
    }

    /// <summary>
    /// Host options that read appsettings.json once instead of watching it. Watching puts a
    /// recursive inotify watch on the working directory, and the default data dir (./data) lies
    /// under it: every WAL and database write then woke the watcher thread, which took a fifth of
    /// the CPU under a create load.
    /// </summary>
    public static WebApplicationOptions HostOptionsWithoutReload(string[] args) =>
        new() { Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"] };

    /// <summary>Opens the store, loads keys and wires the endpoints. Throws <see cref="Storage.StorageException"/> with a clear message if the data dir is unusable.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();

        // X-Forwarded-For from the configured proxies only (rate limits key on the client it names).
        // With none configured the middleware stays out: given empty lists it believes everyone.
        if (app.Services.GetRequiredService<IOptions<NodeOptions>>().Value.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        // Errors become problems twice over: outside the redirect path (which has no activity) and
        // again inside the request activity, so an API error's body and log line carry its trace id.
        app.UseExceptionHandler(errors => errors.Run(WriteErrorProblem));
        // Redirects first: they need none of what follows, not even routing.
        var redirects = app.Services.GetRequiredService<RedirectHandler>();
        app.Use(redirects.InvokeAsync);
        app.Use(RequestActivityMiddleware.InvokeAsync);
        app.UseExceptionHandler(errors => errors.Run(WriteErrorProblem));
        WebAppEndpoints.Use(app);
        app.UseRouting();
        app.UseStatusCodePages(context =>
        {
            // Statuses decided before any endpoint ran (no route, wrong method, wrong media type)
            // get a problem body like every other error.
            var http = context.HttpContext;
            if (Api.Shlink.ShlinkProblems.Applies(http.Request) && http.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
            {
                // Shlink answers an unknown route (and a wrong method) with its not-found problem.
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Api.Shlink.ShlinkProblems.Write(http, Api.Shlink.ShlinkProblemKind.NotFound, $"Cannot {http.Request.Method} {http.Request.Path}!");
            }

            return http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => Problems.Write(http, ProblemKind.NotFound, $"nothing is served at {http.Request.Path}"),
                StatusCodes.Status405MethodNotAllowed => Problems.Write(http, ProblemKind.MethodNotAllowed, $"{http.Request.Method} is not allowed on {http.Request.Path}"),
                StatusCodes.Status415UnsupportedMediaType => Problems.Write(http, ProblemKind.UnsupportedMediaType, $"send the body as JSON with Content-Type: application/json (got {http.Request.ContentType ?? "no Content-Type"})"),
                _ => Task.CompletedTask,
            };
        });
        app.UseCors();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapPrometheusScrapingEndpoint("/metrics");
        HealthEndpoints.Map(app);
        LinkEndpoints.Map(app);
        AdminEndpoints.Map(app);
        ClickEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        Api.Shlink.ShlinkEndpoints.Map(app);
        RobotsEndpoint.Map(app);
        ChangeEndpoints.Map(app);
        VisitStreamEndpoints.Map(app);

        // Open storage and keys now, so a bad data dir fails the start with its own message.
        var keys = app.Services.GetRequiredService<ApiKeyRegistry>();
        if (keys.GeneratedKey is { } generated)
        {
            var options = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
            Console.Out.WriteLine($"Generated API key (shown once, also saved to {Path.Combine(options.DataDir, ApiKeyRegistry.KeyFileName)}): {generated}");
        }

        CheckPeerSecurity(app.Services);
        app.Services.GetRequiredService<LinkService>();
        app.Services.GetRequiredService<Clicks.ClickService>();
        return app;
    }

    private static Task WriteErrorProblem(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var status = error is BadHttpRequestException bad ? bad.StatusCode : 500;
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.Write(context, ProblemKind.PayloadTooLarge, "the request body is too large");
        }

        if (status is >= 400 and < 500)
        {
            return Problems.Write(context, ProblemKind.MalformedRequest, error?.Message ?? "bad request");
        }

        return Problems.Write(context, ProblemKind.Internal, "the node hit an unexpected error; it is logged with this trace id");
    }

    private static Dictionary<string, string?> MapShortEnvironmentNames()
    {
        // SHORTENER_API_KEY and SHORTENER_DATA are the documented short names.
        var map = new Dictionary<string, string?>();
        if (Environment.GetEnvironmentVariable("SHORTENER_API_KEY") is { Length: > 0 } key)
        {
            map[$"{NodeOptions.Section}:ApiKey"] = key;
        }

        if (Environment.GetEnvironmentVariable("SHORTENER_CLUSTER_SECRET") is { Length: > 0 } secret)
        {
            map[$"{ClusterOptions.Section}:Secret"] = secret;
        }

        if (Environment.GetEnvironmentVariable("SHORTENER_DATA") is { Length: > 0 } data)
        {
            map[$"{NodeOptions.Section}:DataDir"] = data;
        }

        return map;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // The hosting layer's per-request log scope and activity cost a redirect more than its
        // lookup does; RequestActivityMiddleware gives API requests their trace ids instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        // Authentication pulls in data protection, which nothing here uses; its key warnings are noise.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        // The authentication base class logs every refused key at Information, twice; the handler
        // counts refusals and logs them at Debug itself.
        builder.Logging.AddFilter(typeof(Security.ApiKeyAuthenticationHandler).FullName, LogLevel.Warning);
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
    }

    private static void ConfigureServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ClusterOptions>().Bind(builder.Configuration.GetSection(ClusterOptions.Section)).Validate(
            o => o.NodeId > 0 && o.TickMs >= 10 && o.ElectionTicks > o.HeartbeatTicks && o.HeartbeatTicks >= 1 && o.RequestTimeoutMs >= 100 && o.ReproposeMs >= o.TickMs && o.SnapshotEntries >= 10 && o.PeerQueueCapacity >= 16 && o.Shards is >= 1 and <= 1024,
            "Cluster options out of range: NodeId > 0, TickMs >= 10, ElectionTicks > HeartbeatTicks >= 1, RequestTimeoutMs >= 100, ReproposeMs >= TickMs, SnapshotEntries >= 10, PeerQueueCapacity >= 16, Shards 1..1024");
        services.AddOptions<NodeOptions>().Bind(builder.Configuration.GetSection(NodeOptions.Section)).Validate(
            o => o.CodeLength is >= 5 and <= 10 && o.CodeBlockSize >= 1 && o.RedirectCacheCapacity >= 100 && o.MaxRequestBodyBytes >= 1024,
            "Shortener options out of range: CodeLength 5..10, CodeBlockSize >= 1, RedirectCacheCapacity >= 100, MaxRequestBodyBytes >= 1024");
        services.TryAddTimeProvider();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // The same trace id the JSON logs carry, so a client's report finds the log lines.
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            if (System.Diagnostics.Activity.Current is { } activity)
            {
                context.ProblemDetails.Extensions["traceId"] = activity.TraceId.ToString();
            }
        });
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            return ApiKeyStore.Open(Path.Combine(options.DataDir, DatabaseFileName));
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            return ApiKeyRegistry.Load(
                sp.GetRequiredService<ApiKeyStore>(),
                options.DataDir,
                options.ApiKey,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<ApiKeyRegistry>());
        });
        services.AddSingleton<ShortenerMetrics>();
        services.AddSingleton<NodeAddresses>();
        services.AddSingleton(sp => new RedirectCache(sp.GetRequiredService<IOptions<NodeOptions>>().Value.RedirectCacheCapacity));
        services.AddSingleton<AppliedLinkObserver>();
        services.AddSingleton(sp => new Clocks.NodeClock(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ShortenerMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<Clocks.NodeClock>()));
        services.AddSingleton(sp => new NodeJournal(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Clocks.NodeClock>(), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId));
        services.AddSingleton<NetworkFaults>();
        services.AddSingleton(sp => PeerSecurity.Load(sp.GetRequiredService<IOptions<ClusterOptions>>().Value));
        services.AddSingleton(sp => ClusterBootstrap.LoadOrCreate(
            sp.GetRequiredService<IOptions<NodeOptions>>().Value,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            sp.GetRequiredService<PeerSecurity>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClusterBootstrap))));
        services.AddSingleton(sp =>
        {
            var secret = sp.GetRequiredService<IOptions<ClusterOptions>>().Value.Secret;
            if (!string.IsNullOrEmpty(secret))
            {
                return new ClusterSecret(secret, configured: true);
            }

            if (sp.GetRequiredService<ClusterTopology>().Members.Count > 1)
            {
                throw new Storage.StorageException("this node is in a cluster of several nodes but has no cluster secret: set SHORTENER_CLUSTER_SECRET (the same on every node)");
            }

            // Alone, nobody calls the peer protocol; a random secret refuses anyone who tries.
            return ClusterSecret.Random();
        });
        services.AddSingleton(sp =>
        {
            var cluster = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            return new GrpcPeerTransport(
                sp.GetRequiredService<ClusterTopology>(),
                cluster.NodeId,
                sp.GetRequiredService<ClusterSecret>(),
                sp.GetRequiredService<PeerSecurity>(),
                cluster.PeerQueueCapacity,
                sp.GetRequiredService<NetworkFaults>(),
                sp.GetRequiredService<Clocks.NodeClock>(),
                sp.GetRequiredService<ShortenerMetrics>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<GrpcPeerTransport>());
        });
        services.AddSingleton<IPeerTransport>(sp => sp.GetRequiredService<GrpcPeerTransport>());
        services.AddSingleton(sp => new MemberList(
            sp.GetRequiredService<ClusterTopology>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            sp.GetRequiredService<ClusterSecret>(),
            sp.GetRequiredService<IOptions<NodeOptions>>().Value.DataDir,
            sp.GetRequiredService<IPeerTransport>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<MemberList>()));
        services.AddSingleton(sp =>
        {
            var observer = sp.GetRequiredService<AppliedLinkObserver>();
            return new ShardHost(
                sp.GetRequiredService<MemberList>(),
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
                sp.GetRequiredService<IOptions<NodeOptions>>().Value.DataDir,
                sp.GetRequiredService<IPeerTransport>(),
                sp.GetRequiredService<NetworkFaults>(),
                observer.OnApplied,
                observer.OnRestored,
                sp.GetRequiredService<ShortenerMetrics>(),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<NodeJournal>(),
                [sp.GetRequiredService<ApiKeyRegistry>(), sp.GetRequiredService<Sinks.SinkRegistry>()]);
        });
        services.AddSingleton<MembershipService>();
        services.AddSingleton<ApiKeyService>();
        services.AddOptions<Sinks.SinkOptions>().Bind(builder.Configuration.GetSection(Sinks.SinkOptions.Section)).Validate<IOptions<ClusterOptions>>(
            (o, cluster) => o.IsValid(cluster.Value.TickMs),
            "Sink options out of range: LeaseMs >= 5 ticks, TickMs <= RenewMs <= LeaseMs / 2, BatchSize 1..10000, MaxAttempts >= 1, 1 <= BackoffBaseMs <= BackoffMaxMs, WriteIntervalMs 0..1000");
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<Sinks.SinkOptions>>().Value);
        services.AddSingleton<Sinks.SinkRegistry>();
        services.AddSingleton<Sinks.SinkMetrics>();
        services.AddSingleton(sp => new Sinks.SinkWriterFactory(sp.GetRequiredService<Changes.ChangeEventFormat>(), sp.GetRequiredService<Sinks.SinkOptions>(), sp.GetRequiredService<Sinks.SinkMetrics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<Sinks.SinkDeliveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<Sinks.SinkDeliveryService>());
        services.AddSingleton<Sinks.SinkService>();
        services.AddSingleton(sp => new LinkService(
            sp.GetRequiredService<ShardHost>(),
            sp.GetRequiredService<RedirectCache>(),
            sp.GetRequiredService<ShortenerMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            (ulong)sp.GetRequiredService<IOptions<NodeOptions>>().Value.CodeBlockSize,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<LinkService>(),
            sp.GetRequiredService<Clocks.NodeClock>()));
        services.AddSingleton<FaultInjector>();
        services.AddSingleton(new Core.Membership.GossipSettings());
        services.AddSingleton<GossipDriver>();
        services.AddOptions<Clicks.ClickOptions>().Bind(builder.Configuration.GetSection(Clicks.ClickOptions.Section));
        services.AddSingleton<IValidateOptions<Clicks.ClickOptions>, Clicks.ClickOptionsValidator>();
        services.AddSingleton(sp => new Clicks.ClickService(
            sp.GetRequiredService<MemberList>(),
            sp.GetRequiredService<IPeerTransport>(),
            sp.GetRequiredService<NetworkFaults>(),
            sp.GetRequiredService<GossipDriver>(),
            sp.GetRequiredService<IOptions<Clicks.ClickOptions>>().Value,
            sp.GetRequiredService<IOptions<NodeOptions>>().Value.DataDir,
            sp.GetRequiredService<Clocks.NodeClock>(),
            sp.GetRequiredService<ShortenerMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<Clicks.ClickService>()));
        services.AddSingleton<PeerServer>();
        services.AddHostedService(sp => sp.GetRequiredService<PeerServer>());
        services.AddHostedService(sp => sp.GetRequiredService<GossipDriver>());
        services.AddHostedService(sp => sp.GetRequiredService<Clicks.ClickService>());
        services.AddHostedService<ClickJournalSampler>();
        services.AddSingleton<RedirectHandler>();
        services.AddHostedService<IdempotencyPurgeService>();
        services.AddSingleton<Transactions.TransactionRunner>();
        services.AddSingleton<Transactions.IntentSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<Transactions.IntentSweeper>());

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(ApiKeyPolicies.Add);
        services.AddCors(cors => cors.AddPolicy(Api.Shlink.ShlinkEndpoints.CorsPolicy, policy => policy
            .AllowAnyOrigin()
            .AllowAnyMethod()
            .WithHeaders(ApiKeyRegistry.HeaderName, "Content-Type")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        services.AddSingleton<Api.Shlink.ShlinkVisits>();
        services.AddSingleton<RobotsEndpoint>();
        services.AddSingleton<Changes.ChangeFeed>();
        services.AddSingleton(sp => new Changes.ChangeEventFormat(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId));
        services.AddSingleton<Changes.ChangeStream>();
        services.AddRateLimiter(ConfigureRateLimiting);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NodeOptions>>((forwarded, node) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.ForwardLimit = 1;

            // The defaults believe loopback; here only what the operator named is believed.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the obsolete list still holds the default loopback network and is still consulted
            forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in node.Value.TrustedProxies)
            {
                if (System.Net.IPNetwork.TryParse(proxy, out var network))
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
                else if (IPAddress.TryParse(proxy, out var address))
                {
                    forwarded.KnownProxies.Add(address);
                }
                else
                {
                    throw new OptionsValidationException(NodeOptions.Section, typeof(NodeOptions), [$"Shortener:TrustedProxies: '{proxy}' is neither an IP address nor a CIDR network"]);
                }
            }
        });

        services.AddMetrics();
        var otel = services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()

                // An up-down counter moved twice on every request, redirects included, for a gauge
                // nobody alerts on; request rates come from the histograms.
                .AddView("http.server.active_requests", MetricStreamConfiguration.Drop)
                .AddMeter(ShortenerMetrics.MeterName)

                // .NET's own: thread-pool queue and threads, GC pauses, lock contention; observed
                // only when scraped. What a stall that is neither disk nor Raft shows first.
                .AddMeter("System.Runtime")
                .AddPrometheusExporter());

        // Spans are recorded only when they have somewhere to go: an OTLP endpoint.
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddSource(ShortenerMetrics.MeterName)
                .AddOtlpExporter());
        }
    }

    /// <summary>Refuses to start when a peer this node would talk to is one it cannot reach safely (plain http without --plaintext-peers, https without TLS files).</summary>
    private static void CheckPeerSecurity(IServiceProvider services)
    {
        var topology = services.GetRequiredService<ClusterTopology>();
        var security = services.GetRequiredService<PeerSecurity>();
        var self = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var peers = topology.Members.Count > 1 ? topology.Members.Select(m => m.PeerUrl) : self.PeerUrl is { } own ? [own] : [];
        if (peers.Select(security.Refusal).FirstOrDefault(r => r is not null) is { } refusal)
        {
            throw new Storage.StorageException(refusal);
        }
    }

    private static void ConfigureRateLimiting(RateLimiterOptions limiter)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, perKey: true)),
            PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, perKey: false)));
        limiter.OnRejected = async (rejected, cancellationToken) =>
        {
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Problems.Write(rejected.HttpContext, ProblemKind.RateLimited, $"too many requests; retry after {seconds} s");
        };
    }

    private static RateLimitPartition<string> Partition(HttpContext context, bool perKey)
    {
        var method = context.Request.Method;
        var key = context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value;
        var limits = context.RequestServices.GetRequiredService<IOptionsMonitor<NodeOptions>>().CurrentValue.RateLimits;
        // Shlink's one-step create is a GET that writes (its key in the query): limited as a write.
        var shorten = context.Request.Path.StartsWithSegments(Api.Shlink.ShlinkShortUrlEndpoints.ShortenPath, StringComparison.OrdinalIgnoreCase);
        if ((HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) && !shorten)
        {
            // Reads of the API without a key, per client network (a key's reads, health, metrics
            // and the dashboard are not limited; redirects never reach this).
            return key is null && !perKey && limits.AnonymousReadsPerSecond > 0 && context.Request.Path.StartsWithSegments("/api")
                ? TokenBucket("anonymous-read:" + ClientNetwork(context.Connection.RemoteIpAddress), limits.AnonymousReadsPerSecond, limits.AnonymousReadsBurst)
                : RateLimitPartition.GetNoLimiter("reads");
        }

        // A request with a valid key spends only its key's tokens; one without spends its client
        // network's, in a partition of their own, so a flood of unauthenticated writes from an
        // address cannot use up what a real key from the same address may do.
        if (perKey != (key is not null))
        {
            return RateLimitPartition.GetNoLimiter(perKey ? "no-key" : "with-key");
        }

        var (rate, burst) = perKey ? (limits.PerKeyPerSecond, limits.PerKeyBurst) : (limits.PerIpPerSecond, limits.PerIpBurst);
        if (rate <= 0)
        {
            return RateLimitPartition.GetNoLimiter("unlimited");
        }

        return TokenBucket(perKey ? "key:" + key : "anonymous-ip:" + ClientNetwork(context.Connection.RemoteIpAddress), rate, burst);
    }

    private static RateLimitPartition<string> TokenBucket(string partitionKey, int rate, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(partitionKey, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(burst, 1),
            TokensPerPeriod = rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    /// <summary>
    /// The unit a per-IP limit applies to: the IPv4 address, or the /64 of an IPv6 address (one
    /// host usually owns a whole /64, so single IPv6 addresses are free to rotate).
    /// </summary>
    internal static string ClientNetwork(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
