namespace Shortener.Cli.Scenarios.Disruptions;

/// <summary>
/// eleven-seconds: one data centre cut off from the others (both directions) by the cluster's own
/// fault injection, then healed. The default data centre is the one leading the most shards, so
/// leaders must move.
/// </summary>
public sealed class DataCentreCut(string? dc, TimeSpan duration) : Disruption(duration)
{
    public const string Name = "eleven-seconds";

    // Should the heal never come (the scenario killed mid-cut), the nodes heal on their own this much later.
    private static readonly TimeSpan SafetyHeal = TimeSpan.FromSeconds(30);

    private ulong _majorityNode;
    private IReadOnlyList<ulong> _isolated = [];
    private bool _sent;

    public override string Scenario => Name;

    public override string? Unsuitable(ScenarioTarget target, bool local) => target.UnknownDc(dc, "--isolate");

    public override async Task<DisruptionStarted> StartAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var cut = dc ?? context.BusiestDc();
        _isolated = context.Target.NodesIn(cut);
        _majorityNode = context.Target.DcOf.Where(d => d.Value != cut).Select(d => d.Key).Min();
        await context.SayAsync($"cutting {cut} off (node {string.Join(", ", _isolated)}) for {Duration.TotalSeconds:0.#} s...");
        _sent = true;
        await InjectAsync(context, _majorityNode, new { action = "partition", isolate = new[] { cut }, scope = "cluster", forSeconds = (Duration + SafetyHeal).TotalSeconds }, "partition", cancellationToken);

        return new DisruptionStarted($"{cut} cut off from the other data centres for {Duration.TotalSeconds:0.#} s", cut, _isolated, []);
    }

    public override async Task<DisruptionEnded> EndAsync(ScenarioContext context, bool stopping)
    {
        if (!_sent)
        {
            return new DisruptionEnded();
        }

        // To a node on each side: a heal that cannot cross the cut still reaches the cut-off side.
        foreach (var node in new[] { _majorityNode }.Concat(_isolated))
        {
            await context.Client.FaultAsync(node, new { action = "heal", scope = "cluster" }, CancellationToken.None);
        }

        return new DisruptionEnded();
    }
}
