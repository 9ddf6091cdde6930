using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Node.Membership;
using Shortener.Node.Shards;
using Shortener.Storage.Security;

namespace Shortener.Node.Api;

/// <summary>/healthz: the process answers. /readyz: its database answers, no shard replica has stopped, and every shard has reached it (a joining node).</summary>
public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"))
            .WithTags("operations").WithSummary("Liveness: the process is up");
        app.MapGet("/readyz", (ApiKeyStore keys, ShardHost shards, MemberList members) =>
            {
                if (!keys.Ping())
                {
                    return Problems.Result(ProblemKind.NotReady, "the node database does not answer");
                }

                var failed = shards.Replicas.Where(r => r.Status.Failed).Select(r => r.Shard).ToList();
                if (failed.Count > 0)
                {
                    return Problems.Result(ProblemKind.NotReady, $"this node's replicas of shards {string.Join(", ", failed)} stopped after an error; see the log");
                }

                // A node on its way out stops getting its shards' updates: its reads go stale.
                if (members.Departing)
                {
                    return Problems.Result(ProblemKind.NotReady, "this node is leaving the cluster (remove-node); its data is no longer kept up to date");
                }

                // A node that joined serves its shards' data only once their leaders sent it.
                var empty = shards.Replicas.Where(r => r.Status.Config.Voters.Count == 0 && r.Status.Config.Learners.Count == 0).Select(r => r.Shard).ToList();
                return empty.Count == 0
                    ? Results.Text("ready\n")
                    : Problems.Result(ProblemKind.NotReady, $"this node is joining: shards {string.Join(", ", empty)} have not reached it yet");
            })
            .WithTags("operations").WithSummary("Readiness: the node can serve reads and writes")
            .ProducesProblem(503);
    }
}
