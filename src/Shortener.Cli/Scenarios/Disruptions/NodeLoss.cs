using System.Diagnostics;
using Shortener.Cli.Cluster;
using Shortener.Core.Cluster;
using Shortener.Node.Api;

namespace Shortener.Cli.Scenarios.Disruptions;

/// <summary>
/// dc-loss: a data centre's node is killed (SIGKILL: no shutdown, no flush) and its data directory
/// deleted, as if the building burned down. Writes go on with the majority. When the duration is
/// over, a replacement node with a new id joins in the same data centre (added to the member list,
/// started with `serve --join`), the dead node is removed, and the shards' leaders fill the
/// replacement; the run goes on until it holds its shards. Only on the local cluster the scenario
/// starts: it kills a process and deletes files.
/// </summary>
public sealed class NodeLoss(string? dc, TimeSpan duration) : Disruption(duration)
{
    public const string Name = "dc-loss";

    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(90);

    private ulong _dead;
    private string _dc = string.Empty;

    public override string Scenario => Name;

    public override string? Unsuitable(ScenarioTarget target, bool local) => local
        ? target.UnknownDc(dc, "--isolate")
        : "dc-loss kills a node's process and deletes its data, so it runs only on the fresh local cluster it starts itself (leave out --server)";

    public override async Task<DisruptionStarted> StartAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var local = context.Local!;
        _dc = dc ?? context.BusiestDc();
        _dead = context.Target.NodesIn(_dc)[0];
        await context.SayAsync($"killing node {_dead} ({_dc}) with SIGKILL and deleting its data...");
        var process = local.Process(_dead);
        process.Kill();
        await process.WaitForExitAsync(cancellationToken);
        Directory.Delete(local.Layout.NodeDataDir(_dead), recursive: true);
        context.Client.Retire(_dead);
        return new DisruptionStarted($"node {_dead} ({_dc}) killed and its data deleted; a replacement joined {Duration.TotalSeconds:0.#} s later", _dc, [_dead], [_dead]);
    }

    public override async Task<DisruptionEnded> EndAsync(ScenarioContext context, bool stopping)
    {
        if (stopping)
        {
            // The local cluster is about to be stopped and deleted: nothing to replace.
            return new DisruptionEnded();
        }

        var local = context.Local!;
        var survivor = context.Client.Nodes.Min();
        var id = context.DcOf.Keys.Max() + 1;
        var port = FreePorts.Range(2, avoid: -1);
        var peerScheme = local.Layout.PeerTls ? "https" : "http";
        var replacement = new ClusterMember(id, _dc, $"{peerScheme}://127.0.0.1:{port + 1}", $"http://127.0.0.1:{port}");
        await context.SayAsync($"adding node {id} to {_dc} in node {_dead}'s place and starting it...");
        await UntilAsync(context, survivor, "/admin/v1/cluster/nodes", new { id, dc = _dc, replacement.PeerUrl, replacement.HttpUrl }, status => status is 201 or 409, $"adding node {id}");

        var started = Stopwatch.StartNew();
        var process = local.StartJoining(replacement, local.Layout.Topology.Member(survivor)!.PeerUrl);
        // 202 while its shards move off it; 200 once it has left the member list.
        await UntilAsync(context, survivor, $"/admin/v1/cluster/nodes/{_dead}", null, status => status is 200, $"removing node {_dead}");
        context.AddNode(id, new Uri(replacement.HttpUrl), _dc);

        while (started.Elapsed < CatchUpTimeout && !process.HasExited)
        {
            if (await context.Client.GetJsonAsync<ClusterView>(id, "/admin/v1/cluster", CancellationToken.None) is { } view && CaughtUp(view, id, _dead))
            {
                await context.SayAsync($"node {id} holds its shards, {started.Elapsed.TotalSeconds:0.0} s after it started");
                return new DisruptionEnded(id, started.ElapsedMilliseconds);
            }

            await Task.Delay(250);
        }

        await context.SayAsync(process.HasExited
            ? $"node {id} exited with code {process.ExitCode}; its log: {process.LogPath}"
            : $"node {id} did not catch up within {CatchUpTimeout.TotalSeconds:0} s");
        return new DisruptionEnded(id, null);
    }

    /// <summary>
    /// The replacement is a voter of some shards, the dead node of none, and for every shard it
    /// knows the leader and has applied all it knows committed.
    /// </summary>
    internal static bool CaughtUp(ClusterView view, ulong replacement, ulong dead) =>
        view.Shards.Count > 0
        && view.Shards.Any(s => s.Voters.Contains(replacement))
        && view.Shards.All(s => !s.Voters.Contains(dead) && !s.Learners.Contains(dead) && s.Leader != 0 && s.Applied >= s.Commit && !s.Failed);

    /// <summary>An admin call repeated until it is done (a shard changing leader answers 5xx for a moment; an add that timed out but happened answers 409), or refused, or the time is up.</summary>
    private static async Task UntilAsync(ScenarioContext context, ulong via, string path, object? body, Func<int, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + MembershipTimeout;
        var (status, text) = (0, string.Empty);
        while (DateTime.UtcNow < deadline)
        {
            (status, text) = await context.Client.AdminAsync(via, path, body, CancellationToken.None);
            if (done(status))
            {
                return;
            }

            if (status is >= 400 and < 500 and not 409)
            {
                break;
            }

            await Task.Delay(500);
        }

        throw new ScenarioException($"{what} failed: {status} {text}");
    }
}
