namespace Shortener.Cli.Scenarios.Disruptions;

/// <summary>
/// What a scenario does to the cluster while its workload runs: a data centre cut off, a leader
/// frozen, a node destroyed, a link that loses messages. The runner starts it, reports each second
/// while it lasts, and ends it; everything else (the workload, the samplers, the checks) is the
/// same for every scenario.
/// </summary>
public abstract class Disruption(TimeSpan duration)
{
    /// <summary>How long it lasts, from the start to the end the runner calls.</summary>
    public TimeSpan Duration { get; } = duration;

    /// <summary>The scenario's name on the command line.</summary>
    public abstract string Scenario { get; }

    /// <summary>Null when it can run against this cluster; else why not, in a sentence for the user.</summary>
    public virtual string? Unsuitable(ScenarioTarget target, bool local) => null;

    /// <summary>Applies it; says what it hit. Throws <see cref="ScenarioException"/> when the cluster refuses it.</summary>
    public abstract Task<DisruptionStarted> StartAsync(ScenarioContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Takes it away. Called even when the run is being stopped (<paramref name="stopping"/>) or the
    /// start failed half way, so no cluster is left cut off or frozen; then it only undoes what was
    /// done, with no waiting.
    /// </summary>
    public abstract Task<DisruptionEnded> EndAsync(ScenarioContext context, bool stopping);

    /// <summary>Sends a fault to a node (POST /admin/v1/faults); a refusal becomes a <see cref="ScenarioException"/> that says why.</summary>
    protected static async Task InjectAsync(ScenarioContext context, ulong node, object spec, string what, CancellationToken cancellationToken)
    {
        var (status, body) = await context.Client.FaultAsync(node, spec, cancellationToken);
        if (status == 200)
        {
            return;
        }

        throw new ScenarioException(status == 404 && body.Contains("--allow-faults", StringComparison.Ordinal)
            ? $"node {node} takes no injected faults: the cluster's nodes must run with --allow-faults for a scenario (shortener up starts them so)"
            : $"node {node} refused the {what}: {status} {body}");
    }
}

/// <summary>
/// What a disruption hit: a sentence for the report, the data centre, the nodes (the "cut-off side"
/// of the findings), and the nodes whose data it destroyed (their journals are gone; the clicks
/// they served but had not yet handed on may be too).
/// </summary>
public sealed record DisruptionStarted(string Description, string AffectedDc, IReadOnlyList<ulong> AffectedNodes, IReadOnlyList<ulong> LostNodes);

/// <summary>How it ended: the node that replaced a lost one and how long after it started it held all its shards, if any.</summary>
public sealed record DisruptionEnded(ulong? ReplacementNode = null, long? ReplacementCaughtUpMs = null);
