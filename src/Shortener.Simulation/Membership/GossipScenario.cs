using Shortener.Core.Membership;

namespace Shortener.Simulation.Membership;

/// <summary>
/// The standard gossip run, one seed: every member starts, a new member joins through one seed,
/// a member crashes, then restarts as a new process. It checks that the join reaches everyone,
/// the crash is detected everywhere (and no running member is declared dead), and the restarted
/// member is seen alive again everywhere.
/// </summary>
public static class GossipScenario
{
    public static GossipScenarioReport Run(GossipSimulationSettings settings)
    {
        var violations = new List<string>();
        var sim = new GossipSimulation(settings);
        var n = settings.Members;
        sim.Start();
        sim.RunFor(5_000);

        var joiner = (ulong)n + 1;
        sim.Add(joiner, seed: 1);
        var join = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(joiner)?.Status == MemberStatus.Alive), 60_000);
        if (join is null)
        {
            violations.Add($"member {joiner} joined through member 1 but was not known alive everywhere after 60 s");
        }

        const ulong victim = 2;
        sim.Crash(victim);
        var detect = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(victim)?.Status == MemberStatus.Dead), 180_000);
        if (detect is null)
        {
            var blind = sim.Running.Where(id => sim.Node(id).Member(victim)?.Status != MemberStatus.Dead).ToList();
            violations.Add($"member {victim} crashed but {blind.Count} members did not see it dead after 180 s (e.g. {string.Join(", ", blind.Take(5).Select(b => $"{b} sees {sim.Node(b).Member(victim)?.ToString() ?? "nothing of it"}"))})");
        }

        var restarted = sim.Restart(victim);
        var rejoin = sim.RunUntil(() => sim.Running.All(id => sim.Node(id).Member(victim)?.Status == MemberStatus.Alive), 120_000);
        if (rejoin is null)
        {
            violations.Add($"member {victim} restarted (incarnation {restarted.Self.Incarnation}) but was not seen alive everywhere after 120 s");
        }

        if (sim.FalseDeaths > 0)
        {
            violations.Add($"{sim.FalseDeaths} verdicts of death about running members");
        }

        return new GossipScenarioReport(settings, join, detect, rejoin, sim.FalseDeaths, sim.Suspicions, sim.MessagesSent, violations);
    }
}
