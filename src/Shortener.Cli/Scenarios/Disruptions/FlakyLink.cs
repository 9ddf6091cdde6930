namespace Shortener.Cli.Scenarios.Disruptions;

/// <summary>
/// flaky-link: the link between a node of one data centre and a node of the next drops 30% of the
/// messages each way (Raft, gossip, clicks), for a minute by default; every other link is clean.
/// Nothing is cut, so every check must hold, and the cost shows as latency, retries and, at worst,
/// leader changes. Each end applies the loss to what it sends to the other, by its own fault
/// injection, and heals on its own if the heal never comes.
/// </summary>
public sealed class FlakyLink(string? dc, TimeSpan duration) : Disruption(duration)
{
    public const string Name = "flaky-link";
    public const double LossRate = 0.3;

    private static readonly TimeSpan SafetyHeal = TimeSpan.FromSeconds(30);

    private readonly List<ulong> _applied = [];

    public override string Scenario => Name;

    public override string? Unsuitable(ScenarioTarget target, bool local) => target.UnknownDc(dc, "--isolate");

    public override async Task<DisruptionStarted> StartAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        // One end in the given (or busiest) data centre, the other in the next one by name.
        var dcs = context.Target.DataCentres;
        var from = dc ?? context.BusiestDc();
        var to = dcs[(dcs.ToList().IndexOf(from) + 1) % dcs.Count];
        var (a, b) = (context.Target.NodesIn(from)[0], context.Target.NodesIn(to)[0]);
        await context.SayAsync($"the link between node {a} ({from}) and node {b} ({to}) drops {LossRate * 100:0}% of messages each way for {Duration.TotalSeconds:0.#} s...");
        foreach (var (self, peer) in new[] { (a, b), (b, a) })
        {
            _applied.Add(self);
            await InjectAsync(context, self, new { action = "loss", scope = "node", peers = new[] { peer }, rate = LossRate, forSeconds = (Duration + SafetyHeal).TotalSeconds }, "loss fault", cancellationToken);
        }

        return new DisruptionStarted($"the link between node {a} ({from}) and node {b} ({to}) dropping {LossRate * 100:0}% of messages each way for {Duration.TotalSeconds:0.#} s", $"{from}-{to}", [a, b], []);
    }

    public override async Task<DisruptionEnded> EndAsync(ScenarioContext context, bool stopping)
    {
        foreach (var node in _applied)
        {
            await context.Client.FaultAsync(node, new { action = "heal", scope = "node" }, CancellationToken.None);
        }

        return new DisruptionEnded();
    }
}
