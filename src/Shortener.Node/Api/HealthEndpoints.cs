using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shortener.Storage.Links;

namespace Shortener.Node.Api;

/// <summary>/healthz: the process answers. /readyz: it can also reach its database.</summary>
public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"))
            .WithTags("operations").WithSummary("Liveness: the process is up");
        app.MapGet("/readyz", (SqliteLinkStore store) => store.Ping()
                ? Results.Text("ready\n")
                : Problems.Result(ProblemKind.NotReady, "the link database does not answer"))
            .WithTags("operations").WithSummary("Readiness: the node can serve reads and writes")
            .ProducesProblem(503);
    }
}
