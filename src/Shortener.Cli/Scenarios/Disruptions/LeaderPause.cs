namespace Shortener.Cli.Scenarios.Disruptions;

/// <summary>
/// leader-pause: the node leading the most shards freezes for longer than an election timeout, as
/// in a long garbage-collection pause, then carries on as if nothing happened. On a local cluster
/// the process is stopped with SIGSTOP and continued with SIGCONT (its sockets stay open, so
/// requests to it queue, not fail); against --server, the node's own pause fault (it stops ticking
/// and drops peer traffic) stands in. The others elect new leaders meanwhile; the woken node still
/// believes it leads until it hears a higher term, and every write it takes in that state must fail.
/// </summary>
public sealed class LeaderPause(TimeSpan duration) : Disruption(duration)
{
    public const string Name = "leader-pause";

    private static readonly TimeSpan SafetyResume = TimeSpan.FromSeconds(30);

    private ulong _node;
    private bool _signalled;
    private bool _faultSent;

    public override string Scenario => Name;

    public override async Task<DisruptionStarted> StartAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var (node, shards) = context.BusiestLeader();
        _node = node;
        var dc = context.Target.DcOf[node];
        var what = $"node {node} ({dc}), leader of shard{(shards.Count == 1 ? string.Empty : "s")} {string.Join(", ", shards)}";
        if (context.Local is { } local)
        {
            await context.SayAsync($"pausing {what} with SIGSTOP for {Duration.TotalSeconds:0.#} s...");
            local.Process(node).Pause();
            _signalled = true;
            return new DisruptionStarted($"{what} frozen with SIGSTOP for {Duration.TotalSeconds:0.#} s, then continued", dc, [node], []);
        }

        await context.SayAsync($"pausing {what} (its pause fault) for {Duration.TotalSeconds:0.#} s...");
        _faultSent = true;
        await InjectAsync(context, node, new { action = "pause", scope = "node", forSeconds = (Duration + SafetyResume).TotalSeconds }, "pause", cancellationToken);

        return new DisruptionStarted($"{what} paused by its pause fault for {Duration.TotalSeconds:0.#} s, then resumed", dc, [node], []);
    }

    public override async Task<DisruptionEnded> EndAsync(ScenarioContext context, bool stopping)
    {
        if (_signalled)
        {
            context.Local!.Process(_node).Resume();
        }
        else if (_faultSent)
        {
            await context.Client.FaultAsync(_node, new { action = "heal", scope = "node" }, CancellationToken.None);
        }

        return new DisruptionEnded();
    }
}
