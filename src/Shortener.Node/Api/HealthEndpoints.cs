using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Cluster;
using Shortener.Storage.Links;

namespace Shortener.Node.Api;

/// <summary>/healthz: the process answers. /readyz: its database answers and no shard replica has stopped.</summary>
public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"))
            .WithTags("operations").WithSummary("Liveness: the process is up");
        app.MapGet("/readyz", (SqliteLinkStore store, ShardHost shards) =>
            {
                if (!store.Ping())
                {
                    return Problems.Result(ProblemKind.NotReady, "the node database does not answer");
                }

                var failed = shards.Replicas.Where(r => r.Status.Failed).Select(r => r.Shard).ToList();
                return failed.Count == 0
                    ? Results.Text("ready\n")
                    : Problems.Result(ProblemKind.NotReady, $"this node's replicas of shards {string.Join(", ", failed)} stopped after an error; see the log");
            })
            .WithTags("operations").WithSummary("Readiness: the node can serve reads and writes")
            .ProducesProblem(503);
    }
}
